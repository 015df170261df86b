// Package quorum models the KRaft metadata quorum (KIP-595, KafkaRaftClient): a
// Raft-style replicated log of protocol.MetadataEntry among the controller voters, and the
// observer side that brokers use to follow that log.
//
// Modelled:
//   - Epochs and elections: a voter votes at most once per epoch, only for a candidate whose log
//     is at least as up-to-date (last epoch, then end offset); the vote is written and flushed to
//     "quorum-state" before it is sent. Election timeouts are randomized in [T, 2T) and a
//     candidate rejected by a majority backs off for a random time up to
//     controller.quorum.election.backoff.max.ms. A higher epoch seen in any message makes a node
//     step down. A new leader appends a LeaderChangeRecord entry first and announces itself with
//     BeginQuorumEpoch.
//   - Pull replication: followers and observers send QuorumFetchRequest; the leader checks
//     divergence as partition leaders do (Partition.fetchRecords: the largest epoch ≤
//     LastFetchedEpoch and its end offset) and answers DivergingEpoch, on which the fetcher
//     truncates to the largest common prefix (KIP-279, AbstractFetcherThread: the min of the
//     leader's end offset, its own end offset for that epoch and its LEO) and fetches again.
//     Fetches with nothing new are held at the leader up to FetchMaxWait and answered at once
//     when entries are appended or the high watermark moves.
//   - Commit: the high watermark is the largest offset flushed on a majority of voters, and it
//     only advances past entries of the leader's own epoch (Raft's commitment rule). Ready
//     reports that the leader's LeaderChangeRecord is committed, so everything before it is
//     final.
//   - Pre-vote (KIP-996, ProspectiveState): a voter whose fetch or election timeout runs out
//     first asks for pre-votes in its current epoch and stands as candidate only with a majority
//     of them; a follower that fetches from its leader refuses pre-votes, so a voter cut off and
//     healed does not depose a healthy leader. protocol pre.vote=false (Config.DisablePreVote)
//     stands at once, as before Kafka 3.9/4.0.
//   - Fetch timeout (a follower that hears nothing from its leader stands), check
//     quorum (a leader resigns when a majority has not fetched for 1.5 × the fetch timeout,
//     LeaderState.CHECK_QUORUM_TIMEOUT_FACTOR), graceful
//     resignation with EndQuorumEpoch (preferred successors ordered by replicated offset).
//   - Durability: "quorum-state" is flushed before any vote is sent or granted; "metadata-log" is
//     flushed before a replica reports an offset as its own (the leader after each append, a
//     follower before its next fetch). Both are recovered on restart; a leader that restarts
//     comes back resigned and tells the voters so (EndQuorumEpoch).
//
// Structure: Handle settles each message's epoch once (KafkaRaftClient.maybeTransition), then
// hands it to the step function of the voter's role (etcd-raft's r.step): stepUnattached,
// stepFollower, stepProspective, stepCandidate, stepLeader, stepResigned, after Kafka's
// EpochState classes. The
// vote side is vote.go, a leader's epoch leader.go, the leader's end of Fetch fetch.go, and the
// fetching end, shared by followers and observers, fetcher.go.
//
// Inputs and outputs: messages are sent and handled as pointers (*protocol.VoteRequest, …),
// timers as raftTimer / observerTimer values. Every change of role, epoch or known leader is
// reported through env.Observe as a StateChange. A leader does not step down for a fetch
// carrying a higher epoch (it answers UNKNOWN_LEADER_EPOCH, as KafkaRaftClient does), since
// observers may have heard of an epoch whose election failed.
//
// Left out: snapshots and log compaction, dynamic voter sets (KIP-853), leader stickiness,
// fetch size limits in bytes (a response carries at most maxFetchEntries entries). A fetch that
// is not answered is resent after min(RequestTimeout, 2×FetchMaxWait) rather than the full
// request timeout, so one lost message does not by itself cost an election (the fetch timeout
// and the request timeout share a 2 s default); for the same reason a leader resends
// BeginQuorumEpoch every min(RequestTimeout, ElectionTimeout/2) until each voter has heard of
// it. A candidate whose vote is refused (lost, or a split vote) stands again after the random
// election backoff rather than its full election timeout. A leader shut down gracefully halts
// at once instead of lingering in ResignedState (where Kafka's would grant the successor a
// pre-vote); Vote requests are not matched to answers by correlation id (see vote.go).
package quorum
