// Command typecheck type-checks Go packages from source for other
// platforms, without compiling them or their dependencies: what a cross
// build would say about the code, at a fraction of its cost.
//
// Each platform is OS/ARCH as rclone's bin/cross-compile.go writes it
// (linux/arm-v7 is GOARCH=arm with GOARM=7), with the same per-arch
// settings (softfloat for 386 and mips, GOARM=5 for plain arm).
// scripts/upstream-check.sh runs it on rclone's tree; docs/testing.md says
// why a type-check stands for a build there.
//
// Usage:
//
//	go run ./scripts/typecheck [-C DIR] OS/ARCH[,OS/ARCH...] PACKAGE...
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"golang.org/x/tools/go/packages"
)

func main() {
	dir := flag.String("C", ".", "the module `directory` to load from")
	flag.Parse()
	if flag.NArg() < 2 {
		fmt.Fprintln(os.Stderr, "usage: typecheck [-C dir] OS/ARCH[,OS/ARCH...] PACKAGE...")
		os.Exit(2)
	}
	failed := false
	for _, p := range strings.Split(flag.Arg(0), ",") {
		if !check(*dir, p, flag.Args()[1:]) {
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// check type-checks patterns and all they import from source, for the
// platform, and prints every error; it reports whether there was none.
func check(dir, platform string, patterns []string) bool {
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedDeps |
			packages.NeedTypes | packages.NeedTypesSizes | packages.NeedSyntax | packages.NeedTypesInfo,
		Dir: dir,
		Env: append(os.Environ(), platformEnv(platform)...),
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		fmt.Printf("%s: %v\n", platform, err)
		return false
	}
	n := packages.PrintErrors(pkgs)
	if n == 0 {
		fmt.Printf("%s: type-checks\n", platform)
	}
	return n == 0
}

// platformEnv is the go command's environment for a platform of rclone's
// bin/cross-compile.go.
func platformEnv(platform string) []string {
	goos, arch, _ := strings.Cut(platform, "/")
	goarch, armVersion, _ := strings.Cut(arch, "-v")
	env := []string{"GOOS=" + goos, "GOARCH=" + goarch, "CGO_ENABLED=0"}
	switch {
	case armVersion != "":
		env = append(env, "GOARM="+armVersion)
	case goarch == "arm":
		env = append(env, "GOARM=5")
	case goarch == "386":
		env = append(env, "GO386=softfloat")
	case goarch == "mips", goarch == "mipsle":
		env = append(env, "GOMIPS=softfloat")
	}
	return env
}
