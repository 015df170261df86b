// Package zookeeper draws the ZooKeeper view of a ZooKeeper-mode cluster: the ensemble (each
// server's role, epoch, last zxid and client sessions; the leader marked) and the znode tree
// Kafka keeps in it, as the ensemble's leader has it: /controller (the controller broker, an
// ephemeral znode of its session), /controller_epoch, /brokers/ids (one ephemeral znode per
// registered broker, whose czxid is its broker epoch) and each partition's state znode
// (leader, leader epoch, ISR and the controller epoch that wrote it) with its version, the
// zkVersion the controller's conditional writes check.
//
// Capture reads a cluster into a State; Render is a pure function of a State. The TUI's
// snapshots hold the State, so a rewound view shows the ensemble and the tree as they were.
// Internal topics' partition states (__consumer_offsets, __transaction_state) are counted, not
// listed.
package zookeeper
