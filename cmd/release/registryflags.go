package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/releasetool/release/registry"
)

// registryFlags are the flags of every command that talks to registries.
func registryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "ca-file", Usage: "trust the registry certificates signed by the CA in `PATH`"},
		&cli.StringSliceFlag{Name: "insecure-registry", Usage: "allow plain HTTP to `HOST` (loopback always is)"},
	}
}

// registryClient is the registry client the flags ask for. Credentials
// come from the Docker config (DOCKER_CONFIG of the run, else
// ~/.docker), with its credential helpers.
func (p *program) registryClient(c *cli.Context, opts ...registry.Option) (*registry.Client, error) {
	if dir := p.getenv("DOCKER_CONFIG"); dir != "" {
		opts = append(opts, registry.WithKeychain(registry.DockerConfigKeychain(dir)))
	}
	if ca := c.String("ca-file"); ca != "" {
		opts = append(opts, registry.WithCAFile(p.abs(ca)))
	}
	for _, h := range c.StringSlice("insecure-registry") {
		opts = append(opts, registry.WithInsecureRegistry(h))
	}
	client, err := registry.New(opts...)
	if err != nil {
		return nil, usageFrom(fmt.Errorf("registry client: %w", err), c.Command.Name)
	}
	return client, nil
}
