package fichier

// unwritableErrnos is empty: plan9's errors are strings, and the state
// is in memory there (internal/bolt) with no file to write.
var unwritableErrnos []error
