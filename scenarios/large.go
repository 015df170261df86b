package scenarios

// Large library scenarios: the seed's scale claims at full size, whose runs cost seconds of CPU
// each (a thousand producers and a thousand consumers: about 8 CPU seconds for 13 simulated).
// The library's tests run them as every other scenario (every expectation, twice the same
// trace, the pinned hashes of seeds 1–3); the seed sweep (TestLibrarySeeds), the other
// control plane (TestLibraryInBothModes) and the checker's library agreement pass them by, to
// keep CI within its budget. Run those by hand with
// `kafkasim sweep scenarios/NAME.scenario --seeds 1-20` and `--metadata-mode zookeeper`.
var large = map[string]string{
	"scale-thousand-clients": "2,000 clients on 1,000 partitions: about 8 CPU seconds a run",
}

// Large says why the library scenario name (without .scenario) is left out of the library's
// sweeps, "" when it is not.
func Large(name string) string { return large[name] }
