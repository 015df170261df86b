// Package groups draws the Groups view: each consumer group's protocol (classic, with the
// assignor it chose), state, generation, coordinator and leader; its members with the
// partitions each owns (a member whose process is down is marked until the coordinator
// removes it); and every partition the group reads with its owner, committed offset, end
// offset (the high watermark) and lag.
//
// Render is a pure function of a snapshot: it reads nothing else. Rewound, it shows the
// groups as they were at the event shown.
package groups
