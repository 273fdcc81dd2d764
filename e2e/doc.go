// Package e2e holds fedstate's end-to-end tests and benchmarks: they run
// the real components (the fedstate binary, real API servers from the test
// bed in e2e/testbed) and measure what operators care about.
package e2e
