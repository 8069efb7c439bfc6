package fichier

// BareEmptyFileError makes the refusal of an empty file rclone's bare
// fs.ErrorCantUploadEmptyFiles while the test runs, for rclone's
// conformance suite, which skips its empty-file test only when Put
// returns that very value.
func BareEmptyFileError(t interface{ Cleanup(func()) }) {
	bareEmptyFileError = true
	t.Cleanup(func() { bareEmptyFileError = false })
}
