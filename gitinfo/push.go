package gitinfo

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// PushOptions configures PushTag.
type PushOptions struct {
	// Token authenticates HTTP(S) pushes as the password of basic
	// authentication (what GitHub, GitLab and Gitea accept for access
	// tokens). Empty: credentials in the remote URL, if any, are used.
	Token string
	// Username goes with Token. Empty: the user in the remote URL, else
	// "x-access-token".
	Username string
}

// ErrAuthentication means the remote refused the push's credentials (or
// asked for some and none were available), with go-git and, when present,
// the git binary.
var ErrAuthentication = errors.New("remote refused the credentials")

// defaultTokenUser is the basic-auth user sent with a bare token; the
// forges ignore it for token authentication but require one.
const defaultTokenUser = "x-access-token"

// PushTag pushes exactly refs/tags/<name> to remote (a configured remote
// name or a URL: a path, file://, http(s)://, ssh:// or user@host:path).
// A remote tag already on the same commit (even through another tag object)
// is success, so re-runs and a twin pipeline that tagged the same commit
// pass; a remote tag on another commit is a *TagConflictError.
//
// go-git pushes first, trusting the CA git is configured with for HTTPS
// (GIT_SSL_CAINFO, http.<url>.sslCAInfo, http.sslCAInfo) besides the
// system's. When it cannot authenticate (HTTP 401/403, or any SSH
// connection failure: go-git knows neither ~/.ssh/config nor most agent
// setups) or does not trust the server's certificate, and the git binary is
// available, `git push` is run instead, so credential helpers, the
// http.extraheader CI checkouts configure and the rest of git's TLS and SSH
// configuration apply (http.sslVerify=false included: go-git never skips
// verification itself). Such failures wrap ErrAuthentication or
// ErrCertificate. Errors never carry the URL's credentials or the token.
func (r *Repo) PushTag(ctx context.Context, remote, name string, opts PushOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	tag, ok, err := r.localTag(name)
	var rawURL string
	if err == nil {
		rawURL, err = r.pushTarget(remote)
	}
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("pushing tag %s: %w", name, err)
	}
	if !ok {
		return fmt.Errorf("pushing tag %s: no such local tag: %w", name, ErrUnknownRevision)
	}
	shown := StripUserinfo(rawURL)
	secrets := []string{opts.Token}
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		p, _ := u.User.Password()
		secrets = append(secrets, p)
	}

	err = r.pushGoGit(ctx, rawURL, tag, opts)
	var fb *fallbackError
	if errors.As(err, &fb) && r.git != "" {
		err = r.pushGitBinary(ctx, rawURL, tag, opts)
		// git may get past the certificate (with configuration go-git
		// does not read) or the SSH connection and then be refused.
		if err != nil && fb.why != ErrAuthentication && gitAuthFailure(err) {
			fb.why = ErrAuthentication
		}
	}
	if err == nil {
		return nil
	}
	var conflict *TagConflictError
	if errors.As(err, &conflict) {
		conflict.Remote = shown
		return conflict
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// The underlying errors may quote credentials: only their redacted
	// text travels, with a sentinel for what callers branch on.
	if fb != nil && fb.why != nil {
		err = fmt.Errorf("pushing tag %s to %s: %s: %w", name, shown, redact(err.Error(), secrets...), fb.why)
		if fb.why == ErrCertificate {
			return &certificateError{err}
		}
		return err
	}
	return fmt.Errorf("pushing tag %s to %s: %s", name, shown, redact(err.Error(), secrets...))
}

// fallbackError marks a go-git failure the git binary may get past: why
// is ErrAuthentication or ErrCertificate, what the push fails with when
// no git binary does better; nil for an SSH failure that says neither.
type fallbackError struct {
	err error
	why error
}

func (e *fallbackError) Error() string { return e.err.Error() }
func (e *fallbackError) Unwrap() error { return e.err }

// certificateError is an ErrCertificate failure with its fix.
type certificateError struct{ err error }

func (e *certificateError) Error() string { return e.err.Error() }
func (e *certificateError) Unwrap() error { return e.err }

// Hint says where git, and so PushTag, takes a CA from.
func (e *certificateError) Hint() string {
	return "if a private CA signed the server's certificate, name its file in git config http.sslCAInfo or in GIT_SSL_CAINFO"
}

// sshFailure classifies a failed go-git SSH push: ErrAuthentication when
// no key was accepted or none was available (no agent), else nil (no
// connection, an unknown host key).
func sshFailure(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "unable to authenticate") || strings.Contains(msg, "SSH_AUTH_SOCK") {
		return ErrAuthentication
	}
	return nil
}

// gitAuthFailure reports whether a failed git push's message says the
// remote refused or lacked credentials (git has no other way to say why).
func gitAuthFailure(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Authentication failed") || strings.Contains(msg, "could not read Username") ||
		strings.Contains(msg, "could not read Password") || strings.Contains(msg, "returned error: 403") ||
		strings.Contains(msg, "Permission denied (") // ssh: Permission denied (publickey).
}

// pushTarget maps a configured remote name to its URL (as RemoteURL);
// anything else that looks like a path or URL is taken to be one already.
func (r *Repo) pushTarget(remote string) (string, error) {
	u, err := r.remoteURL(remote)
	if errors.Is(err, ErrUnknownRemote) && strings.ContainsAny(remote, "/:\\") {
		return remote, nil
	}
	return u, err
}

// tokenUser is the basic-auth user that goes with opts.Token: Username,
// else the user in the URL (u may be nil), else defaultTokenUser.
func tokenUser(u *url.URL, opts PushOptions) string {
	if opts.Username != "" {
		return opts.Username
	}
	if u != nil && u.User != nil && u.User.Username() != "" {
		return u.User.Username()
	}
	return defaultTokenUser
}

// goGitEndpoint splits credentials off an HTTP(S) URL into an auth method
// (so go-git never holds them in a URL it might print) and adds the token.
func goGitEndpoint(rawURL string, opts PushOptions) (string, transport.AuthMethod) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return rawURL, nil
	}
	user, pass := "", ""
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	if opts.Token != "" {
		user, pass = tokenUser(u, opts), opts.Token
	}
	u.User = nil
	if user == "" && pass == "" {
		return u.String(), nil
	}
	return u.String(), &githttp.BasicAuth{Username: user, Password: pass}
}

// isSSH reports whether git would reach rawURL over SSH: an ssh:// (or
// git+ssh://, ssh+git://) URL, or the scp-like [user@]host:path, which
// git tells from a local path by a colon before any slash (and not a
// Windows drive's).
func isSSH(rawURL string) bool {
	if scheme, _, ok := strings.Cut(rawURL, "://"); ok && isURLScheme(scheme) {
		switch strings.ToLower(scheme) {
		case "ssh", "git+ssh", "ssh+git":
			return true
		}
		return false
	}
	colon, slash := strings.IndexByte(rawURL, ':'), strings.IndexByte(rawURL, '/')
	if colon < 0 || (slash >= 0 && slash < colon) {
		return false
	}
	drive := colon == 1 && ('a' <= rawURL[0]|0x20 && rawURL[0]|0x20 <= 'z')
	return !drive
}

// isURLScheme reports whether s can be a URL's scheme (letters, digits,
// "+", "-", "."), as git checks before reading "<scheme>://".
func isURLScheme(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func (r *Repo) pushGoGit(ctx context.Context, rawURL string, tag Tag, opts PushOptions) error {
	endpoint, auth := goGitEndpoint(rawURL, opts)
	refspec := config.RefSpec("refs/tags/" + tag.Name + ":refs/tags/" + tag.Name)
	r.mu.Lock()
	defer r.mu.Unlock()
	ca, err := r.caBundle(endpoint)
	if err != nil {
		return err
	}
	rem := git.NewRemote(r.storage, &config.RemoteConfig{Name: "release-push", URLs: []string{endpoint}})
	err = rem.PushContext(ctx, &git.PushOptions{
		RemoteName: "release-push",
		RefSpecs:   []config.RefSpec{refspec},
		Auth:       auth,
		CABundle:   ca,
	})
	if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	if errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed) {
		return &fallbackError{err, ErrAuthentication}
	}
	// Never InsecureSkipTLS: http.sslVerify=false and GIT_SSL_NO_VERIFY
	// take effect through the git binary, exactly as git applies them.
	if isCertificateError(err) {
		return &fallbackError{err, ErrCertificate}
	}
	// Rejected, most likely because the tag exists there: look.
	refs, lerr := rem.ListContext(ctx, &git.ListOptions{Auth: auth, CABundle: ca, PeelingOption: git.AppendPeeled})
	if lerr != nil {
		if isSSH(rawURL) {
			return &fallbackError{err, sshFailure(err)}
		}
		return err
	}
	remoteTag, peeled := plumbing.ZeroHash, plumbing.ZeroHash
	for _, ref := range refs {
		switch ref.Name().String() {
		case "refs/tags/" + tag.Name:
			remoteTag = ref.Hash()
		case "refs/tags/" + tag.Name + "^{}":
			peeled = ref.Hash()
		}
	}
	if remoteTag.IsZero() {
		return err
	}
	return r.judgeRemoteTag(tag, remoteTag, peeled)
}

// judgeRemoteTag decides whether a tag found on the remote is ours: nil when
// it peels to our commit, a *TagConflictError otherwise. peeled may be zero
// when the remote did not advertise it; the tag object is then peeled
// locally if we have it.
func (r *Repo) judgeRemoteTag(tag Tag, remoteTag, peeled plumbing.Hash) error {
	have := peeled
	if have.IsZero() {
		have = remoteTag
		if c, _, err := r.peel(remoteTag); err == nil {
			have = c
		}
	}
	if have.String() == tag.Commit {
		return nil
	}
	return &TagConflictError{Tag: tag.Name, Have: have.String(), Want: tag.Commit}
}

// pushGitBinary pushes with `git push`. Credentials — a token, or a
// password in an HTTP(S) URL — travel as an HTTP Authorization header
// through the environment, never on the command line, where any user of
// the machine could read them in the process list (and a credential
// helper could store them).
func (r *Repo) pushGitBinary(ctx context.Context, rawURL string, tag Tag, opts PushOptions) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		u = nil // not a URL (scp-like): no user in it, nothing to strip
	}
	user, pass := "", ""
	switch {
	case opts.Token != "":
		user, pass = tokenUser(u, opts), opts.Token
	case u != nil && (u.Scheme == "http" || u.Scheme == "https") && u.User != nil:
		if p, ok := u.User.Password(); ok && p != "" {
			user, pass = u.User.Username(), p
		}
	}
	var env []string
	secrets := []string{opts.Token}
	if pass != "" {
		basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		env = append(env, "GIT_CONFIG_COUNT=1",
			"GIT_CONFIG_KEY_0=http.extraHeader",
			"GIT_CONFIG_VALUE_0=Authorization: Basic "+basic)
		secrets = append(secrets, pass)
		// The header carries the credentials: keep them out of the URL.
		if u != nil && u.User != nil {
			u.User = nil
			rawURL = u.String()
		}
	}
	refspec := "refs/tags/" + tag.Name + ":refs/tags/" + tag.Name
	_, pushErr := r.runGit(ctx, env, secrets, "push", "--quiet", rawURL, refspec)
	if pushErr == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	out, err := r.runGit(ctx, env, secrets, "ls-remote", rawURL, "refs/tags/"+tag.Name, "refs/tags/"+tag.Name+"^{}")
	if err != nil {
		return pushErr
	}
	remoteTag, peeled := plumbing.ZeroHash, plumbing.ZeroHash
	for _, line := range bytes.Split(out, []byte("\n")) {
		f := strings.Fields(string(line))
		if len(f) != 2 || !plumbing.IsHash(f[0]) {
			continue
		}
		switch f[1] {
		case "refs/tags/" + tag.Name:
			remoteTag = plumbing.NewHash(f[0])
		case "refs/tags/" + tag.Name + "^{}":
			peeled = plumbing.NewHash(f[0])
		}
	}
	if remoteTag.IsZero() {
		return pushErr
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.judgeRemoteTag(tag, remoteTag, peeled)
}
