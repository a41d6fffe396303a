// Package multihop is the shipped multi-hop retrieval program: a user's own
// Go struct that answers the questions of dataset.Multihop ("Which country
// is the birthplace of the author of The Pale Kingdom?") in two retrieval
// hops, after DSPy's multi-hop tutorials:
//
//	query    Predict          question -> search_query
//	retrieve programs.Retrieve search_query -> passages (hop 1)
//	hop      Predict          question, passages -> search_query
//	retrieve                  search_query -> passages (hop 2)
//	answer   ChainOfThought   question, passages -> reasoning, answer
//
// Its predictors are named "query", "hop" and "answer.predict", so the
// optimizers tune each stage and saved programs (dspex JSON and DSPy JSON)
// hold them under those names.
package multihop

import (
	"context"
	"fmt"
	"slices"

	"github.com/dspex-go/dspex/dataset"
	"github.com/dspex-go/dspex/programs"
	"github.com/dspex-go/dspex/retrieve"
)

// DefaultK is the number of passages each hop retrieves.
const DefaultK = 3

// QueryIn is the input of the first-hop query step.
type QueryIn struct {
	Question string `dspy:"question" desc:"a question whose answer is in a corpus of passages"`
}

// QueryOut is the output of both query steps.
type QueryOut struct {
	SearchQuery string `dspy:"search_query" desc:"a query for a search engine over the corpus"`
}

// HopIn is the input of the second-hop query step.
type HopIn struct {
	Question string   `dspy:"question" desc:"a question whose answer is in a corpus of passages"`
	Passages []string `dspy:"passages" desc:"passages found by the first search"`
}

// AnswerIn is the input of the answer step.
type AnswerIn struct {
	Question string   `dspy:"question"`
	Passages []string `dspy:"passages" desc:"passages that may contain the answer"`
}

// AnswerOut is the output of the answer step.
type AnswerOut struct {
	Answer string `dspy:"answer"`
}

// Program is the multi-hop pipeline. Its exported fields are what the
// optimizers walk; build it with New. It is safe for concurrent use.
type Program struct {
	// Query writes the first search query from the question.
	Query *programs.Predict[QueryIn, QueryOut] `dspy:"query"`
	// Retrieve finds passages for a query; it has nothing to optimise.
	Retrieve *programs.Retrieve `dspy:"retrieve"`
	// Hop writes the second search query from the question and the first
	// hop's passages.
	Hop *programs.Predict[HopIn, QueryOut] `dspy:"hop"`
	// Answer answers from the passages of both hops.
	Answer *programs.ChainOfThought[AnswerIn, AnswerOut] `dspy:"answer"`
}

// New returns the zero-shot program over r, retrieving k passages per hop
// (k <= 0: DefaultK). opts configure every predictor (for example
// programs.WithLM).
func New(r retrieve.Retriever, k int, opts ...programs.Option) (*Program, error) {
	if k <= 0 {
		k = DefaultK
	}
	query, err := programs.NewPredict[QueryIn, QueryOut](opts...)
	if err != nil {
		return nil, fmt.Errorf("multihop: query: %w", err)
	}
	ret, err := programs.NewRetrieve(r, k)
	if err != nil {
		return nil, err
	}
	hop, err := programs.NewPredict[HopIn, QueryOut](opts...)
	if err != nil {
		return nil, fmt.Errorf("multihop: hop: %w", err)
	}
	answer, err := programs.NewChainOfThought[AnswerIn, AnswerOut](opts...)
	if err != nil {
		return nil, fmt.Errorf("multihop: answer: %w", err)
	}
	return &Program{Query: query, Retrieve: ret, Hop: hop, Answer: answer}, nil
}

// Result is what a run found and answered.
type Result struct {
	// Queries are the two search queries.
	Queries [2]string
	// Passages are the passages the answer step read: both hops', first
	// hop first, without repeats.
	Passages []retrieve.Passage
	// Reasoning and Answer are the answer step's outputs.
	Reasoning, Answer string
}

// Call answers question.
func (p *Program) Call(ctx context.Context, question string) (Result, error) {
	var res Result
	q1, err := p.Query.Call(ctx, QueryIn{Question: question})
	if err != nil {
		return res, err
	}
	res.Queries[0] = q1.SearchQuery
	hop1, err := p.Retrieve.Call(ctx, q1.SearchQuery)
	if err != nil {
		return res, err
	}
	q2, err := p.Hop.Call(ctx, HopIn{Question: question, Passages: programs.Texts(hop1)})
	if err != nil {
		return res, err
	}
	res.Queries[1] = q2.SearchQuery
	hop2, err := p.Retrieve.Call(ctx, q2.SearchQuery)
	if err != nil {
		return res, err
	}
	res.Passages = hop1
	for _, ps := range hop2 {
		if !slices.ContainsFunc(res.Passages, func(x retrieve.Passage) bool { return x.ID == ps.ID }) {
			res.Passages = append(res.Passages, ps)
		}
	}
	ans, err := p.Answer.Call(ctx, AnswerIn{Question: question, Passages: programs.Texts(res.Passages)})
	if err != nil {
		return res, err
	}
	res.Reasoning, res.Answer = ans.Reasoning, ans.Out.Answer
	return res, nil
}

// Forward runs the program on the input "question" and returns "answer",
// "reasoning", "passages", "passage_ids" and "queries". It makes Program a
// programs.Program that Evaluate and the optimizers run.
func (p *Program) Forward(ctx context.Context, inputs programs.Values) (programs.Prediction, error) {
	q, _ := inputs["question"].(string)
	if q == "" {
		return programs.Prediction{}, fmt.Errorf("multihop: input \"question\" must be a non-empty string")
	}
	res, err := p.Call(ctx, q)
	if err != nil {
		return programs.Prediction{}, err
	}
	ids := make([]string, len(res.Passages))
	for i, ps := range res.Passages {
		ids[i] = ps.ID
	}
	v := programs.Values{"answer": res.Answer, "reasoning": res.Reasoning, "passages": programs.Texts(res.Passages),
		"passage_ids": ids, "queries": []string{res.Queries[0], res.Queries[1]}}
	return programs.Prediction{Values: v, Completions: []programs.Values{v}}, nil
}

// Corpus returns the shipped corpus (dataset.MultihopCorpus) as passages to
// index.
func Corpus() []retrieve.Passage {
	ds := dataset.MultihopCorpus()
	out := make([]retrieve.Passage, len(ds))
	for i, d := range ds {
		out[i] = retrieve.Passage{ID: d.ID, Text: d.Text}
	}
	return out
}
