package suites

import "time"

// The most a suite may ask for. Each cap sits far above any real test and far
// below what would exhaust the machine or never end, so a typo (an extra
// three zeros, .inf, a pasted byte count) is refused at load time with the
// value and the limit, instead of running for days or allocating without
// bound. Every check of these values reads them from here; ParseStage applies
// MaxRate and MaxLoadDuration to --stage as well.
const (
	// MaxRate bounds load rates and stage targets, in new conversations per
	// second: a hundred thousand is more than one machine can open.
	MaxRate = 100_000
	// MaxRepeat bounds repeat, per conversation and in defaults.
	MaxRepeat = 10_000
	// MaxVUs bounds the closed model's virtual users.
	MaxVUs = 100_000
	// MaxInFlight bounds load.max_in_flight.
	MaxInFlight = 100_000
	// MaxRetries bounds provider.retries.
	MaxRetries = 100
	// MaxWait bounds every duration that is one wait: timeouts, think time,
	// poll interval, max_latency and the grace period.
	MaxWait = 24 * time.Hour
	// MaxLength bounds the min and max of a length check, in characters.
	MaxLength = 1_000_000
	// MaxLoadDuration bounds a load test's duration and each of its stages.
	MaxLoadDuration = 7 * 24 * time.Hour
	// MaxFileSize bounds a suite file. The largest real suites are some
	// hundred kilobytes; the loader keeps a file's nodes in memory several
	// times over, so that a file of this size already takes seconds and
	// half a gigabyte to load, and a 200 MB one would take gigabytes.
	MaxFileSize = 10 << 20
	// MaxDataRows bounds the rows of one conversation's data:, written in
	// the suite or read from a file (which MaxFileSize bounds as well).
	// Each row becomes a conversation held in memory from load to report.
	MaxDataRows = 10_000
	// MaxShards bounds N of run --shard K/N and load --shard K/N, and of
	// the shard records merge takes in: a set of more parts than a suite
	// set holds conversations is a typo, and merge keeps a note per part.
	MaxShards = 10_000
)
