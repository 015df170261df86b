// Package partition draws the partitions pane: one row per partition (leader, leader epoch,
// ISR, ELR, HW, offline) and, for the selected partition, each replica's log as a bar with its
// HW and LEO marked and its lag. Out-of-sync, offline, down and truncated replicas are marked
// by a glyph and a word, never by colour alone.
package partition
