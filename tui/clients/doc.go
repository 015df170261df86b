// Package clients draws the clients pane: each producer's acknowledged, failed, unknown and
// in-flight records and its throughput; each consumer's records read and its rate. Rates are
// over the last second of virtual time, from the snapshots.
package clients
