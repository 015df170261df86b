// Package history is the record of what clients did and saw, the input of the checker.
//
// A history is a list of operations in completion order. Each operation is one client's
// action on one partition:
//
//   - send: a producer sent one record. Values holds the record's value; on success Offsets
//     holds the offset the broker acknowledged. A send is recorded once per record, even when
//     records travel in one batch, so that the checker can follow every value.
//   - poll: a consumer received records from one partition in one fetch. Values and Offsets
//     hold them, in log order. A fetch that returned records from several partitions is
//     recorded as one poll per partition with the same times.
//
// Invoke is the virtual time the client started the operation (for a send, when the
// application handed the record to the producer); Complete when it learnt the outcome.
//
// Outcome is ok (the operation took effect as recorded), fail (it certainly did not take
// effect: the broker refused the batch before appending, e.g. NOT_ENOUGH_REPLICAS) or unknown
// (it may or may not have taken effect: a timeout, a broken connection,
// NOT_ENOUGH_REPLICAS_AFTER_APPEND). The checker treats unknown as Jepsen treats :info.
//
// Histories are written as JSON lines, one operation per line, with the fields of Op under
// the names in its tags; times are in nanoseconds of virtual time.
package history
