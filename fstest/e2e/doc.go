// Package e2e holds the project's end-to-end tests.
//
// The tests in binary_test.go and mount_test.go run the real rclone
// binary (cmd/rclone, with our fichier backend) against the real
// fichier-emulator binary started as a separate process, as a user
// would. They take the binaries from $FICHIER_BIN_DIR (make build leaves
// them in bin/) or build them once per test run.
//
// The fault matrix (faults_test.go) runs in-process instead: rclone's
// sync and check code and our backend linked into the test binary, the
// emulator as an in-process server, so it can inject faults, seed files
// and count what is stored without going through the API.
//
// Every emulator runs 1fichier's rate rules sped up (20 times for the
// binaries, fichiertest.TimeScale in-process), with the backend's rates
// scaled to match, so the API-call counts the tests assert are those of
// a real run.
package e2e
