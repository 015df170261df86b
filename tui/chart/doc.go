// Package chart draws HW and LEO over virtual time for the selected partition (ntcharts'
// time-series line chart, braille), with fault periods shaded: a shaded background where the
// terminal has colour, and always a band of ░ under the chart.
package chart
