package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

func cmdPushSig(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! pushsig")
	}
	st := scriptState(ts, true)
	fs := flag.NewFlagSet("pushsig", flag.ContinueOnError)
	env := fs.String("env", "", "set `VAR` to the signature's digest")
	tagEnv := fs.String("tagenv", "", "set `VAR` to the signature's tag")
	ts.Check(fs.Parse(args))
	if fs.NArg() < 2 || fs.NArg() > 3 {
		ts.Fatalf("usage: pushsig [-env VAR] [-tagenv VAR] REPO DIGEST [KIND]")
	}
	kind := "sig"
	if fs.NArg() == 3 {
		kind = fs.Arg(2)
	}
	st.seed++
	sig := st.server.PushSignature(st.t, fs.Arg(0), fs.Arg(1), kind, 5000+st.seed)
	if *env != "" {
		ts.Setenv(*env, sig.Digest)
	}
	if *tagEnv != "" {
		ts.Setenv(*tagEnv, strings.Replace(fs.Arg(1), ":", "-", 1)+"."+kind)
	}
	fmt.Fprintln(ts.Stdout(), sig.Digest)
}

func cmdHasTag(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 || (neg && len(args) != 1) {
		ts.Fatalf("usage: hastag REPO:TAG [DIGEST] | ! hastag REPO:TAG")
	}
	st := scriptState(ts, true)
	repo, tag := splitRepoTag(ts, args[0])
	raw, _, ok := st.server.Manifest(repo, tag)
	switch {
	case neg && ok:
		ts.Fatalf("%s exists", args[0])
	case neg:
		return
	case !ok:
		ts.Fatalf("%s does not exist", args[0])
	}
	sum := sha256.Sum256(raw)
	if got := "sha256:" + hex.EncodeToString(sum[:]); len(args) == 2 && got != args[1] {
		ts.Fatalf("%s names %s, want %s", args[0], got, args[1])
	}
}
