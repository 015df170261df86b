package broker

import (
	"slices"
	"strconv"
	"strings"

	"kafkasim/broker/protocol"
)

// Behavior: stray replicas. A broker that was down while a reassignment moved a partition off
// it (or while the partition went away) never saw the metadata change that would have deleted
// its replica: it finds the log on its disk when it comes back. Once its metadata has caught up
// (the first publish), it deletes every log on its disk that the metadata no longer assigns to
// it, as LogManager.startup does with LogManager.isStrayKraftReplica
// (BrokerMetadataPublisher.initializeManagers, KAFKA-14616). Kafka renames the directory with
// a -stray suffix and deletes it later; here it is deleted at once.

// deleteStrayLogs removes the logs of partitions this broker does not host after its first
// publish (maybePublish has opened every partition the image assigns to it).
func (b *Broker) deleteStrayLogs() {
	var strays []protocol.TopicPartition
	for _, f := range b.disk.Files() {
		if tp, ok := logDirOf(f); ok && b.parts[tp] == nil {
			strays = append(strays, tp)
		}
	}
	slices.SortFunc(strays, compareTP)
	for _, tp := range slices.Compact(strays) {
		prefix := tp.String() + "/"
		files := 0
		for _, f := range b.disk.Files() {
			if strings.HasPrefix(f, prefix) {
				b.disk.Remove(f)
				files++
			}
		}
		ev := &StrayReplicaDeleted{Broker: b.id, TP: tp, Files: files}
		if mp := b.image.Partition(tp.Topic, tp.Partition); mp != nil {
			ev.Replicas = slices.Clone(mp.Replicas)
		}
		b.env.Observe(ev)
	}
}

// logDirOf reads the partition of a log file's path, TOPIC/PARTITION/NAME.
func logDirOf(file string) (protocol.TopicPartition, bool) {
	i := strings.LastIndexByte(file, '/')
	if i < 0 {
		return protocol.TopicPartition{}, false
	}
	dir := file[:i]
	j := strings.LastIndexByte(dir, '/')
	if j <= 0 {
		return protocol.TopicPartition{}, false
	}
	n, err := strconv.ParseInt(dir[j+1:], 10, 32)
	if err != nil || n < 0 {
		return protocol.TopicPartition{}, false
	}
	return protocol.TopicPartition{Topic: dir[:j], Partition: int32(n)}, true
}

// StrayReplicaDeleted: a broker coming back found TP's log on its disk although the metadata no
// longer assigns TP to it (Replicas: the current assignment, nil when the partition is gone),
// and deleted its Files files.
type StrayReplicaDeleted struct {
	Broker   int32
	TP       protocol.TopicPartition
	Replicas []int32
	Files    int
}
