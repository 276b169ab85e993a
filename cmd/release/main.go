// Command release derives the next version of a Python service from git,
// builds and pushes its image with labels that tie it to its source
// revision, promotes images between registries by digest, and answers which
// commit an image came from.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(main1())
}

// main1 runs the program in this process and returns the exit code; tests
// run it as the "release" command of their scripts.
func main1() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, os.Args, processEnv())
}
