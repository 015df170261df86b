package controller

import (
	"fmt"
	"testing"
)

// Reference: Kafka AdminUtilsTest.testReplicaAssignment (5 brokers, 10 partitions, RF 3,
// fixed start index 0).
func TestAssignReplicasMatchesKafka(t *testing.T) {
	want := [][]int32{
		{0, 1, 2}, {1, 2, 3}, {2, 3, 4}, {3, 4, 0}, {4, 0, 1},
		{0, 2, 3}, {1, 3, 4}, {2, 4, 0}, {3, 0, 1}, {4, 1, 2},
	}
	got := assignReplicas(10, 3, []int32{0, 1, 2, 3, 4}, 0, 0, 0)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v; want %v", got, want)
	}
}

func TestAssignReplicas(t *testing.T) {
	cases := []struct {
		name                      string
		n, rf                     int
		brokers                   []int32
		start, shift, startPartit int
		want                      string
	}{
		{"broker ids are used, not indexes", 3, 2, []int32{1, 2, 3}, 0, 0, 0, "[[1 2] [2 3] [3 1]]"},
		{"start index rotates the first replica", 3, 2, []int32{1, 2, 3}, 1, 0, 0, "[[2 3] [3 1] [1 2]]"},
		{"shift moves the followers", 2, 3, []int32{1, 2, 3, 4}, 0, 1, 0, "[[1 3 4] [2 4 1]]"},
		{"one broker", 2, 1, []int32{7}, 0, 0, 0, "[[7] [7]]"},
		{"continues after existing partitions", 2, 2, []int32{1, 2, 3}, 0, 0, 3, "[[1 3] [2 1]]"},
		{"replication factor above the broker count", 1, 4, []int32{1, 2, 3}, 0, 0, 0, "[]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := fmt.Sprint(assignReplicas(c.n, c.rf, c.brokers, c.start, c.shift, c.startPartit))
			if got != c.want {
				t.Errorf("got %s; want %s", got, c.want)
			}
		})
	}
}
