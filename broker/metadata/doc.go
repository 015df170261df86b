// Package metadata holds the records of the KRaft metadata log (__cluster_metadata) and the
// Image they build: registered brokers with their epochs and fencing, topics, and every
// partition's assignment, leader, leader epoch, partition epoch, ISR and eligible leader
// replicas (KIP-966). The active controller appends records; every controller and broker
// replays the committed log into its own Image, so a broker's view of leadership is only as
// fresh as its replay.
//
// Left out: snapshots, feature levels, ACLs, client quotas, delegation tokens.
package metadata
