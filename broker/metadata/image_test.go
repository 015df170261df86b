package metadata

import (
	"slices"
	"testing"
)

// Images that apply the same records share the partition states they make (one copy for
// every broker of a large cluster), and each still reads as if it had built its own: a change
// applied to a partition of another assignment (an image that missed a reassignment) makes
// that image's own state, and leaves the shared one alone.
func TestImagesSharePartitionStates(t *testing.T) {
	create := []any{
		&TopicRecord{Name: "t", TopicID: 1},
		&PartitionRecord{Topic: "t", Partition: 0, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, Leader: 1},
	}
	shrink := &PartitionChangeRecord{Topic: "t", Partition: 0, ISR: []int32{1, 2}, Leader: 1, LeaderEpoch: 0, PartitionEpoch: 1}
	a, b, c := NewImage(), NewImage(), NewImage()
	for _, im := range []*Image{a, b, c} {
		for _, r := range create {
			im.Apply(r)
		}
	}
	if a.Partition("t", 0) != b.Partition("t", 0) {
		t.Fatal("two images applying one PartitionRecord hold two copies of its state")
	}
	// c saw a reassignment the others did not: the same change record must keep c's replicas.
	c.Apply(&PartitionChangeRecord{Topic: "t", Partition: 0, ISR: []int32{1, 2, 4}, Leader: 1, PartitionEpoch: 1, Replicas: []int32{1, 2, 4}})
	a.Apply(shrink)
	b.Apply(shrink)
	c.Apply(shrink)
	pa, pb, pc := a.Partition("t", 0), b.Partition("t", 0), c.Partition("t", 0)
	if pa != pb {
		t.Error("two images applying one change to one state hold two copies of the result")
	}
	if !slices.Equal(pa.Replicas, []int32{1, 2, 3}) || !slices.Equal(pa.ISR, []int32{1, 2}) || pa.PartitionEpoch != 1 {
		t.Errorf("a: %+v; want replicas [1 2 3], ISR [1 2], partition epoch 1", *pa)
	}
	if pc == pa || !slices.Equal(pc.Replicas, []int32{1, 2, 4}) || !slices.Equal(pc.ISR, []int32{1, 2}) {
		t.Errorf("c: %+v; want its own state: replicas [1 2 4], ISR [1 2]", *pc)
	}
	if !slices.Equal(a.Partition("t", 0).Replicas, []int32{1, 2, 3}) {
		t.Error("c's change altered the state a shares")
	}
}
