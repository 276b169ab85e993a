package registry

import (
	"context"
	"fmt"

	"github.com/docker/cli/cli/config"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// DockerConfigKeychain reads credentials from the Docker config in dir
// (what DOCKER_CONFIG names; "" means ~/.docker), with its credential
// helpers and credsStore, at every lookup. It lets the caller pass the
// environment in instead of the process environment being read behind its
// back.
func DockerConfigKeychain(dir string) authn.Keychain {
	return dockerConfig{dir: dir}
}

type dockerConfig struct{ dir string }

// Resolve implements authn.Keychain.
func (k dockerConfig) Resolve(target authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), target)
}

// ResolveContext implements authn.ContextKeychain: the repository's own
// entry first, then the registry's.
func (k dockerConfig) ResolveContext(_ context.Context, target authn.Resource) (authn.Authenticator, error) {
	cf, err := config.Load(k.dir)
	if err != nil {
		return nil, fmt.Errorf("reading Docker config: %w", err)
	}
	for _, key := range []string{target.String(), target.RegistryStr()} {
		if key == name.DefaultRegistry {
			key = authn.DefaultAuthKey
		}
		cfg, err := cf.GetAuthConfig(key)
		if err != nil {
			return nil, fmt.Errorf("reading credentials for %s: %w", key, err)
		}
		if cfg.Username != "" || cfg.Password != "" || cfg.Auth != "" || cfg.IdentityToken != "" || cfg.RegistryToken != "" {
			return authn.FromConfig(authn.AuthConfig{
				Username:      cfg.Username,
				Password:      cfg.Password,
				Auth:          cfg.Auth,
				IdentityToken: cfg.IdentityToken,
				RegistryToken: cfg.RegistryToken,
			}), nil
		}
	}
	return authn.Anonymous, nil
}
