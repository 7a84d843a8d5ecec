package config

import "slices"

// SecretsInFile names the settings of the YAML file at path that hold a secret (the
// database URL's password, the SMTP password), sorted; nil when it holds none. Only the
// file counts, not the environment. The values themselves are never returned.
func SecretsInFile(path string) ([]string, error) {
	c, err := Load(path, func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range c.secretSettings() {
		names = append(names, s.key)
	}
	slices.Sort(names)
	return names, nil
}
