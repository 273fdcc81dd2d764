package main

import (
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

// pluginBinary is the name kubectl finds fedctl under as a plugin: kubectl
// runs kubectl-fedstate for "kubectl fedstate".
const pluginBinary = "kubectl-fedstate"

// pluginDisplayName is how the root command reads as a kubectl plugin.
const pluginDisplayName = "kubectl fedstate"

// isPlugin reports whether the program was started as the kubectl plugin:
// argv0's base name, without an .exe suffix, is kubectl-fedstate.
func isPlugin(argv0 string) bool {
	return strings.TrimSuffix(filepath.Base(argv0), ".exe") == pluginBinary
}

// fedctlWord matches "fedctl" as a command word in help text, not in a
// path such as bin/fedctl or cmd/fedctl.
var fedctlWord = regexp.MustCompile(`(^|[\s"'(` + "`" + `])fedctl\b`)

// asKubectlPlugin makes the command tree read as "kubectl fedstate": the
// root's usage line and every command path (cobra's display name), and the
// commands' descriptions and examples.
func asKubectlPlugin(root *cobra.Command) {
	root.Use = "fedstate"
	if root.Annotations == nil {
		root.Annotations = map[string]string{}
	}
	root.Annotations[cobra.CommandDisplayNameAnnotation] = pluginDisplayName
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Short = pluginText(c.Short)
		c.Long = pluginText(c.Long)
		c.Example = pluginText(c.Example)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// pluginText replaces the command word fedctl with kubectl fedstate.
func pluginText(s string) string {
	return fedctlWord.ReplaceAllString(s, "${1}"+pluginDisplayName)
}
