package controller

// Behavior: replica placement when CreateTopics or CreatePartitions gives no assignment: Kafka's
// rack-unaware AdminUtils.assignReplicasToBrokers over the sorted registered brokers. The first
// replica of partition p goes to broker (p + startIndex) % n; the others follow at a shift that
// grows by one every n partitions, so leaders and followers spread evenly.
//
// Not modelled: rack awareness, KRaft's StripedReplicaPlacer (which prefers unfenced brokers).

// assignReplicas returns the replicas of partitions startPartition .. startPartition+nPartitions-1.
// brokers must be sorted and rf ≤ len(brokers); startIndex and nextReplicaShift are the random
// draws in [0, len(brokers)).
func assignReplicas(nPartitions, rf int, brokers []int32, startIndex, nextReplicaShift, startPartition int) [][]int32 {
	n := len(brokers)
	if n == 0 || rf < 1 || rf > n {
		return nil
	}
	out := make([][]int32, 0, nPartitions)
	current := max(0, startPartition)
	for range nPartitions {
		if current > 0 && current%n == 0 {
			nextReplicaShift++
		}
		first := (current + startIndex) % n
		replicas := make([]int32, 0, rf)
		replicas = append(replicas, brokers[first])
		for j := 0; j < rf-1; j++ {
			replicas = append(replicas, brokers[replicaIndex(first, nextReplicaShift, j, n)])
		}
		out = append(out, replicas)
		current++
	}
	return out
}

// replicaIndex is AdminUtils.replicaIndex: the j-th follower of a partition whose first replica
// is at firstIndex.
func replicaIndex(firstIndex, secondReplicaShift, j, n int) int {
	shift := 1 + (secondReplicaShift+j)%(n-1)
	return (firstIndex + shift) % n
}
