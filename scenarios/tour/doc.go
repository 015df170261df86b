// Package tour is the guided tour of the seed documents (kafka-intro-1.txt and
// kafka-intro-2.txt, the two introductions a student reads before opening kafkasim): a sequence
// of short scenario files, one per step, that follow the seeds' chapters in order, each showing
// one or a few of their sections happen on the simulated cluster.
//
// A step is an ordinary scenario file (it runs with `kafkasim run scenarios/tour/NN-name.scenario`)
// whose header names the seed sections it shows and the library scenarios that go deeper:
//
//	# The high watermark and the log end offset
//	# zh: 高水位（HW）与日志末端位移（LEO）
//	# seeds: 1.2 HW; 1.2 LEO
//	# library: slow-follower, kip101-hw-truncation
//
// Every say line is followed by a comment holding its Chinese form (`# zh: …`), so one file
// carries both languages and stays a plain scenario: Localize turns it into the Chinese one,
// line for line, and since captions are not part of the trace, both languages give the same
// trace hash. A step asks the class a question (a say line opening "Question:", "问题：") and
// pauses for the answer.
//
// Sections lists every section of both seeds; a test holds the map: every section is shown by
// at least one step, every step names only known sections and library scenarios, and every
// step runs green and deterministic headless. The command (tui/tour) plays the steps in the
// terminal UI one after another, or headless with --run.
package tour
