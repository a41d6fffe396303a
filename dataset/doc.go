// Package dataset ships a small question-answering dataset with dspex, so
// that programs, metrics and optimizers can be tried and tested offline.
//
// # Contents
//
// The dataset is embedded from qa.jsonl (one JSON object per line) and holds
// 305 items:
//
//   - 175 facts (kind "fact", ids fact-001 to fact-175): capitals, chemical
//     symbols, authors, astronomy, geography, SI units, science, people and
//     everyday facts. Answers are short and unambiguous ("Paris", "Au",
//     "Jane Austen", "206").
//   - 130 arithmetic word problems (kind "math", ids math-001 to math-130)
//     with an integer answer, needing 1, 2 or 3 steps in equal shares. Each
//     carries its Steps count and its Work, one equation per step.
//
// Two more files serve the modules that write code (programs.ProgramOfThought,
// CodeAct, RLM): arith.jsonl, 40 arithmetic word problems of 4 to 6 steps
// (Arithmetic, kind "math", ids arith-001 to arith-040, not in QA), and
// archive.txt.gz, a registry of about half a megabyte, far larger than a
// small model's context (Archive), with 12 questions each answered by one
// of its lines (ArchiveQuestions, kind "archive").
//
// The files are generated: the facts are a table in internal/gen and the math
// problems come from a generator with a fixed seed, so the output is
// deterministic. Regenerate them with
//
//	go generate ./dataset
//
// The tests fail if the committed file differs from the generator's output,
// if ids or questions repeat, or if any Work equation does not compute.
//
// # Use
//
// QA returns every item; TrainDev shuffles them with a seed and splits them
// into a training and a development set; Lookup finds an item by its question
// regardless of case, white space and punctuation (see Normalize). The
// embedded simulator (package simlm) uses Lookup to decide what its pretend
// model "knows".
package dataset
