// Package events draws the event log: elections, ISR shrinks and expansions, truncations,
// fencing, faults, captions and the script's progress, in plain words with virtual time
// ("12.400s ★ orders/0: broker 2 elected leader, epoch 3, ISR {2,3}"), newest last.
package events
