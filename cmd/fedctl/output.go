package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"sigs.k8s.io/yaml"
)

// Output formats of the commands that print documents.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatYAML  = "yaml"
)

// checkFormat refuses an output format other than table, json and yaml,
// in the words of the -o flag.
func checkFormat(format string) error {
	if format != formatTable && format != formatJSON && format != formatYAML {
		return fmt.Errorf("-o %q: want table, json or yaml", format)
	}
	return nil
}

// render prints doc in format: indented JSON, YAML, or the table that
// table writes.
func render(format string, doc any, table func(io.Writer)) ([]byte, error) {
	switch format {
	case formatJSON:
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode JSON: %w", err)
		}
		return append(b, '\n'), nil
	case formatYAML:
		b, err := yaml.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("encode YAML: %w", err)
		}
		return b, nil
	case formatTable:
		var buf bytes.Buffer
		table(&buf)
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("output format %q: want table, json or yaml", format)
}

// defaultDNSServer is the federation DNS server fedctl asks unless told:
// $FEDSTATE_DNS ("fedctl local env" sets it), else 127.0.0.1:5353, where
// the README's walkthroughs run one.
func defaultDNSServer() string {
	if s := os.Getenv("FEDSTATE_DNS"); s != "" {
		return s
	}
	return "127.0.0.1:5353"
}
