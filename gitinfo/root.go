package gitinfo

// FindRoot returns the worktree root of the repository containing dir,
// found as Open finds it (dir or the nearest parent with a .git directory
// or file). It reads no objects, so it is cheap enough for locating
// configuration files.
func FindRoot(dir string) (string, error) {
	root, _, err := discover(dir)
	return root, err
}
