// Command genqa writes the dspex QA dataset as JSON lines. It is run by
// go generate in package dataset:
//
//	go run ./internal/gen/cmd/genqa -o qa.jsonl
//	go run ./internal/gen/cmd/genqa -set arith -o arith.jsonl
//	go run ./internal/gen/cmd/genqa -set archive -o archive.txt.gz
//	go run ./internal/gen/cmd/genqa -set multihop-corpus -o multihop_corpus.jsonl.gz
//	go run ./internal/gen/cmd/genqa -set multihop -o multihop.jsonl
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/dspex-go/dspex/dataset/internal/gen"
)

func main() {
	out := flag.String("o", "qa.jsonl", "output file")
	set := flag.String("set", "qa", "which file: qa (qa.jsonl), arith (arith.jsonl) or archive (archive.txt), multihop-corpus (multihop_corpus.jsonl) or multihop (multihop.jsonl); gzip-compressed when the output name ends in .gz")
	flag.Parse()
	var buf bytes.Buffer
	var err error
	switch *set {
	case "qa":
		err = gen.Write(&buf)
	case "arith":
		err = gen.WriteArith(&buf)
	case "archive":
		err = gen.WriteArchive(&buf)
	case "multihop-corpus":
		err = gen.WriteMultihopCorpus(&buf)
	case "multihop":
		err = gen.WriteMultihopQuestions(&buf)
	default:
		err = fmt.Errorf("unknown set %q", *set)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genqa:", err)
		os.Exit(1)
	}
	data := buf.Bytes()
	if strings.HasSuffix(*out, ".gz") {
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		if _, err := zw.Write(data); err == nil {
			err = zw.Close()
		}
		data = z.Bytes()
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genqa:", err)
		os.Exit(1)
	}
}
