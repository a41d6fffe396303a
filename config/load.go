package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Formats of configuration data for Parse.
const (
	FormatYAML = "yaml"
	FormatJSON = "json"
)

// Load reads a configuration file, decodes it over Default() (keys absent
// from the file keep their default; a "providers" list replaces the default
// one) and validates the result. The format follows the extension: .yaml or
// .yml for YAML, .json for JSON.
//
// Unknown keys are errors. Decoding errors are *LoadError whose message
// names the key (JSON) or line (YAML); invalid values are *ValidationError.
// Load does not read the environment: apply ApplyEnv afterwards.
func Load(path string) (Config, error) {
	var format string
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		format = FormatYAML
	case ".json":
		format = FormatJSON
	default:
		return Config{}, &LoadError{Path: path, Err: fmt.Errorf("unknown extension %q (want .yaml, .yml or .json)", filepath.Ext(path))}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, &LoadError{Path: path, Err: err}
	}
	cfg, err := Parse(data, format)
	if err != nil {
		var le *LoadError
		if errors.As(err, &le) {
			le.Path = path
		}
		return Config{}, err
	}
	return cfg, nil
}

// Parse decodes configuration data in format (FormatYAML or FormatJSON) over
// Default() and validates it, like Load.
func Parse(data []byte, format string) (Config, error) {
	cfg := Default()
	defaults := cfg.Providers
	cfg.Providers = nil
	switch format {
	case FormatYAML:
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return Config{}, &LoadError{Path: "<yaml>", Err: renamed(err)}
		}
	case FormatJSON:
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				// The embedded Backoff is inlined: its keys sit directly
				// under retry and supervision.
				te.Field = strings.Replace(te.Field, ".Backoff.", ".", 1)
			}
			return Config{}, &LoadError{Path: "<json>", Err: renamed(err)}
		}
		if dec.More() {
			return Config{}, &LoadError{Path: "<json>", Err: errors.New("data after the top-level object")}
		}
	default:
		return Config{}, &LoadError{Path: "<" + format + ">", Err: fmt.Errorf("unknown format %q", format)}
	}
	if cfg.Providers == nil {
		cfg.Providers = defaults
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// renamedKeys maps the backoff keys of earlier versions to their names
// since retry and supervision share one spelling (see Backoff).
var renamedKeys = []struct{ old, new string }{
	{"initial_backoff", "retry.initial"},
	{"max_backoff", "retry.max"},
	{"backoff_initial", "supervision.initial"},
	{"backoff_max", "supervision.max"},
	{"backoff_multiplier", "supervision.multiplier"},
	{"backoff_jitter", "supervision.jitter"},
}

// renamed adds to a decoding error that names an old backoff key the key
// that replaced it. Old keys are not accepted: a file that still uses one
// fails to load with this message.
func renamed(err error) error {
	msg := err.Error()
	for _, k := range renamedKeys {
		if strings.Contains(msg, "field "+k.old+" not found") || strings.Contains(msg, `unknown field "`+k.old+`"`) {
			return fmt.Errorf("%w (%s was renamed %s)", err, k.old, k.new)
		}
	}
	return err
}
