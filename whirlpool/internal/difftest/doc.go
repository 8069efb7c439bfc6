// Package difftest holds the tests and benchmark that compare
// rclone-fichier's Whirlpool with github.com/jzelinskie/whirlpool, the
// package it replaces.
//
// They live apart from the whirlpool package so that the rclone-fichier
// root module, which replaces that import path with this module's
// whirlpool package, never loads them: there the "original" would be the
// replacement itself. Run them from this module:
//
//	cd whirlpool && go test ./...
//	cd whirlpool && go test -run '^$' -bench Whirlpool ./internal/difftest
package difftest
