// Package simlm is an embedded model server for offline runs and tests.
//
// # THIS IS A SIMULATOR, NOT A LANGUAGE MODEL
//
// simlm does not understand language and generates nothing. It speaks the
// OpenAI HTTP API on a loopback port and answers from a lookup table (the
// shipped QA dataset, package dataset) through a small, documented,
// deterministic behaviour model. That model reacts to prompts the way real
// models do in the respects that matter to dspex (output format, answer
// style, reasoning, demonstrations), so that programs, adapters, metrics,
// optimizers, retries and breakers can be exercised end to end, through the
// real OpenAI provider code, without a network or an API key. It knows the
// shipped QA dataset and the long arithmetic problems (dataset.Arithmetic).
// Numbers measured against it say nothing about any real model.
//
// # Use
//
// Start a server, point the OpenAI-compatible provider at it, close it when
// done:
//
//	srv, err := simlm.Start() // 127.0.0.1, a free port
//	if err != nil { ... }
//	defer srv.Close()
//	model, err := lm.NewOpenAI(lm.OpenAIConfig{BaseURL: srv.URL(), Model: simlm.DefaultModel})
//
// URL returns the base URL, ending in /v1. NewServer builds a server without
// listening, whose Handler can be mounted elsewhere (httptest.NewServer);
// Start (the method) listens on Config.Addr. Close is idempotent, ends
// delayed and hanging requests at once and waits for every handler.
//
// Endpoints:
//
//   - POST /v1/chat/completions: model, messages (string content, or text
//     and image_url parts: see Images), temperature, n, max_tokens / max_completion_tokens (the reply
//     is cut and finish_reason is "length"), stop, seed, response_format
//     (json_object / json_schema), metadata.rollout_id. Usage is counted
//     with a simple deterministic tokenizer (a run of letters or digits is
//     one token, so is every other non-space character; 4 tokens per
//     message and 3 per reply on the prompt side). stream is refused (400).
//   - POST /v1/embeddings: deterministic 64-dimensional vectors (or the
//     requested dimensions): a hashed bag of content words and their
//     character trigrams, L2-normalised, so texts sharing words are close in
//     cosine similarity. Float or base64 encoding; string, string array or
//     token-id inputs.
//   - GET /v1/models and GET /v1/models/{id}.
//
// # Reading the prompt
//
// The simulator parses the DSPy Chat and JSON adapter wire formats itself:
// the system message's input and output field lists (with their types) and
// the objective (the signature's instructions); demos, the user/assistant
// pairs before the last user message (assistant turns in [[ ## field ## ]]
// markers or as a JSON object); and the last user message's
// [[ ## field ## ]] input values, without the closing "Respond with ..."
// paragraph. JSON output is wanted when response_format asks for it, when
// the system message says "Outputs will be a JSON object" or when the last
// message says "Respond with a JSON object". The question is the input named
// question, else the first input; it is looked up with dataset.Lookup's
// normalisation, then as any run of up to eight sentences inside the value.
// A prompt without adapter markers is plain chat: the last user message is
// searched for a dataset question and answered in prose.
//
// # What the model rewards
//
// The simulator's prompt sensitivity (quality.go) is a model of the
// properties of a prompt a real model responds to, read from the prompt
// alone and never from an optimizer's wording (a test keeps every trigger
// phrase of the cue table out of package teleprompter's sources). Each
// effect is graded and noisy, not a switch: the style's chance is a
// logistic sum of the properties' weights, the per-request luck decides,
// and each phrasing of a constraint is heeded a little more or less
// (a hash of the instruction moves the logit by up to +-0.3).
//
//	property                  effect                                  why a real model behaves so
//	------------------------  --------------------------------------  -----------------------------------------------
//	format constraint in the  logit of a SHORT answer +7 x grade;     models follow explicit output constraints, more
//	instruction (grade in     one clear cue (grade 0.6) makes SHORT   surely the more plainly and redundantly stated;
//	[-1, 1], by grammar: a    about 0.92 likely, two about 0.995;     asked to elaborate, they write sentences
//	length limit "at most 3   asked to elaborate ("in detail", "full
//	words", a brevity word    sentences") SHORT falls near 0
//	on the answer, the bare
//	answer, no explanation)
//	demos showing the answer  logit +1.6 per demo (signed: short      in-context examples set the output format more
//	format                    answers add, long subtract), at most 4  than instructions do; more examples, surer copy
//	demo relevance (word      each demo weighs 0.7 + 0.6 x overlap    examples like the question are copied more
//	overlap with question)                                            closely
//	reasoning field before    multi-step math right +0.7              a model that writes its work before the answer
//	the answer                                                        computes instead of guessing
//	demos solving math        +0.4 with >= 2 that show reasoning,     worked examples show the method
//	                          +0.2 with >= 2 without, +0.1 with 1
//	instruction asks to work  math +0.3 x grade (grade in [0, 1]:     asking for the steps elicits some reasoning,
//	the problem through       "step by step", "work out each          less than a dedicated reasoning field
//	                          calculation", "before the final")
//	passage holding the       recall 0.97 instead of the knowledge    reading beats remembering
//	answer (an input other    (0.85)
//	than the question)
//	passages lacking it       recall x 0.9                            irrelevant context distracts
//
// The simulated prompt writers (proposal, dataset summary, reflection and
// rule steps) write instructions from what they are shown: they notice a
// pattern with chance 1 - 0.55^k, k the examples showing it (doubled for
// failures), and put it in their own words, varying the phrasing by the
// tip and the sampling salt; a pattern still failing under a constraint
// calls for a stronger one.
//
// # Images
//
// Content parts are read in both protocols: OpenAI's array content (text
// and image_url parts) and Anthropic's content blocks (text and image
// blocks, base64 or url source). The simulator cannot see, so each image
// stands in the text it reads as "[image: <description>]", a phrase such
// as "a red bicycle on a beach" chosen by a hash of the image: of its
// decoded bytes for a base64 data: URL, of the URL otherwise
// (DescribeImage returns it). Nothing is downloaded. When the question (the
// input named question, else the first input) holds an image, or is not a
// dataset question while another input holds one, the answer is that
// description; so a program that sends an image gets an answer that names
// what the simulator "saw", and a test can check the image arrived as an
// image part.
//
// # Behaviour model
//
// Everything is decided by hashing, never by a random generator, so the
// same prompt and sampling parameters always give the same reply. The
// "luck" of a sample is a hash of the question and a salt; the salt is
// empty at temperature 0 or unset, and otherwise mixes the temperature, the
// seed, metadata.rollout_id and the choice index (so n > 1 samples, other
// seeds and other rollouts can differ; a repeated identical request at
// temperature > 0 without a seed gives the same reply).
//
//	aspect            rule
//	----------------  ---------------------------------------------------------------
//	fact knowledge    the model knows a fact iff hash(question) < recall, recall
//	                  Config.Knowledge (0.85) unless a passage holds the answer
//	                  (0.97) or passages lack it (x 0.9): fixed per question.
//	                  An unknown fact gets a plausible wrong answer: the answer of
//	                  another fact whose question shares the longest word prefix
//	                  ("What is the capital of ...").
//	math, 1 step      always right.
//	math, 2+ steps    right iff luck < p, p = min(1, sum of):
//	                    0.2  base
//	                   +0.7  an output field reasoning or rationale comes before
//	                         the answer field (ChainOfThought)
//	                   +0.4  >= 2 demos that are dataset math problems answered
//	                         correctly and show reasoning, or
//	                   +0.2  >= 2 such demos without reasoning
//	                   +0.3  times the instruction's request to work the
//	                         problem through (see above)
//	                  times 0.6 for every step beyond 3 (arithmetic with many
//	                  operands is error-prone in the head; the shipped
//	                  dataset.Arithmetic problems have 4 to 6 steps).
//	                  A wrong answer is the result of the first step (the model
//	                  stops early); its reasoning shows only that step.
//	unknown question  a fixed generic phrase ("the red house"), or a number for
//	                  questions with digits that ask "how many".
//	answer style      SHORT (just the answer, e.g. "Paris") with the chance the
//	                  table above gives: zero-shot Config.TerseRate (0.15),
//	                  raised by format constraints and short demos, lowered by
//	                  requests to elaborate and long demos; otherwise VERBOSE:
//	                  one of four sentences that contain the answer ("I believe
//	                  the answer is Paris."), so normalised exact match fails
//	                  but "contains" passes.
//	reasoning field   "We work it out step by step. 6 - 1 = 5. 5 * 2 = 10. So the
//	                  answer is 10." for math; a recall sentence for facts.
//	typed fields      the answer field follows its declared type (int, float,
//	                  bool as True/False, list as a JSON array, dict as a JSON
//	                  object, Literal[...] as its first option); other output
//	                  fields get a short typed filler (int 1-10, float 0.9, bool
//	                  True, list ["answer"], dict {"value": ...}, str the
//	                  reasoning sentence).
//	ReAct step        when the outputs include next_tool_name and
//	                  next_tool_args, a fixed agent policy, not reasoning: while
//	                  no tool has given a usable observation (a non-empty one
//	                  not starting "Failed to execute"), call the next untried
//	                  tool listed in the instructions whose arguments fit the
//	                  question; after a usable observation, or when no untried
//	                  tool fits, call finish with {}. Arguments, in schema
//	                  order: a string with an enum takes the option the
//	                  question names (else the first); a string named or
//	                  described as a query, question, text, prompt, input,
//	                  search or sentence takes the question; another string
//	                  takes the key entity (the last run of capitalised words
//	                  not opening a sentence: "New Zealand", "Mona Lisa"), else
//	                  the question; an array of strings, that value as its one
//	                  item; integer and number arguments take the question's
//	                  numbers in order (integers need a whole number; too few
//	                  numbers and the tool does not fit); a boolean is true; an
//	                  untyped argument takes the question; an object does not
//	                  fit. The extraction step (outputs after a trajectory) is
//	                  answered like any other prompt, from the question.
//	Refine feedback   when the inputs include module_names and the outputs
//	                  advice, the adviser reads the program's question and
//	                  answer: every module is advised to reason step by step
//	                  when the question is a dataset arithmetic problem, to
//	                  answer concisely when the answer has more than 4 words,
//	                  both when both hold, and N/A (not to blame) otherwise.
//	reflection step   when the outputs include improved_instruction (GEPA), or
//	                  rule with an input worse_trajectory (SIMBA): the examples
//	                  shown are read as inputs, generated outputs and feedback;
//	                  the wanted answer is the first string the feedback quotes
//	                  other than the output (for a rule, else the better run's
//	                  answer). Outputs holding the wanted answer among other
//	                  words, and wrong numbers for problems with two or more
//	                  numbers, are the patterns noticed; the instruction keeps
//	                  the current one and adds what was noticed in the
//	                  simulator's words (a word limit with samples; working
//	                  through the calculations), else a neutral sentence once.
//	                  A rule with nothing noticed is "Follow the better run's
//	                  approach."
//	proposal step     when the outputs include proposed_instruction (the
//	                  optimizers' grounded proposer): starting from the best
//	                  earlier instruction or the basic one, the writer notices
//	                  short demo answers and arithmetic demos (and what the
//	                  dataset summary reports) and adds them in its words. The
//	                  tip is never copied; it only varies the phrasing.
//	summary step      when the outputs include dataset_observations: the
//	                  examples counted, their answers' length in words and the
//	                  arithmetic problems among them.
//	program step      when the outputs include generated_code (DSPy's
//	                  ProgramOfThought), a Starlark program for a dataset math
//	                  problem: one line per equation of its work, in a variable
//	                  named after what is counted, ending with FINAL({name:
//	                  value}) for the names listed after `FINAL()` in the
//	                  instructions (or DSPy's "mapping for `answer`"). With no
//	                  error input, the program misspells the variable in its
//	                  last step with chance 0.35 by the question's luck; with
//	                  an error input (the regenerate step) it is correct. For
//	                  an unknown problem, a program that adds its numbers.
//	code output       when the inputs include code_output, or a trajectory
//	                  with code_output_N blocks (CodeAct's extraction), the
//	                  answer is copied from it: the JSON object's value under
//	                  the answer field's name, else the output's last line.
//	code agent step   when the outputs include generated_code and finished
//	                  (CodeAct), a fixed policy: call each listed tool whose
//	                  arguments fit the question (filled as for a ReAct step)
//	                  in a snippet that prints its result, until a snippet
//	                  prints something; then finish. With no tool left, write
//	                  the problem's program printing the result, finished.
//	REPL step         when the outputs include code and the inputs
//	                  repl_history and variables_info (RLM), a fixed policy
//	                  over the history: print the longest variable's length
//	                  and beginning; keep its lines that mention the query's
//	                  key entity; ask llm_query to answer the query from those
//	                  lines (at most 40); SUBMIT the reply under the output
//	                  names of the instructions' `SUBMIT(...)`.
//	passage reading   a plain chat message with a "Question: Who (or What) is
//	                  the X of Y?" line and a sentence "The X of Y is Z." gets
//	                  Z (an extractive reading, as a sub-LM call does).
//	format            every output field in declared order in [[ ## name ## ]]
//	                  markers ending with [[ ## completed ## ]]; or one JSON
//	                  object, fields in order, values typed.
//
// # Multi-hop retrieval steps
//
// The simulator also plays the steps of the shipped multi-hop program
// (dataset.Multihop, package retrieve/multihop; simlm/multihop.go). It
// knows none of the corpus's facts: it reads them from the passages in the
// prompt (the sentences "X is a <genre> written by P and ..." and "P was
// born in C, K, and worked as a J."). A step is recognised by its fields
// and by a question of the task's three forms, never by instruction words.
// Each effect is graded and noisy (a hash of the question and the sampling
// salt), not a switch:
//
//	step / property               effect                         why a real model behaves so
//	----------------------------  -----------------------------  ---------------------------------------------
//	first query (no passages)     the question itself; the       models copy the question unless shown
//	                              book's title + "author" when   shorter queries
//	                              most demos' queries are at
//	                              most half their question
//	second query, passages name   names the author with chance   the bridge entity must be noticed in the
//	the book's author             0.45 base                      passages; zero-shot models often restate
//	                                                             the question instead
//	  + reasoning field first     +0.25                          reasoning first surfaces the entity
//	  + demos showing a bridge    +0.20 each, at most two        a shown pattern (query = a name found in
//	    query                                                    the passages, not in the question) is copied
//	  + instruction about names   +0.15                          an instruction that says what to look for
//	    or entities                                              focuses the query
//	second query, no author       the question again             nothing to hop to
//	answer, both passages         right with chance 0.60         reading two facts and joining them
//	present                                                      can slip
//	  + reasoning field first     +0.30                          chain of thought joins the two hops
//	  + >= 2 demos with passages  +0.08                          demos show reading from passages
//	answer, a passage missing     a decoy value from the         the model guesses from what it sees
//	                              passages (or "unknown")
//	answer form                   bare value when most demo      answers copy the demos' format; follow a
//	                              answers have <= 4 words;       format constraint stated in the
//	                              else bare with a chance read   instruction; otherwise tend to answer
//	                              from the instruction's format  in a sentence
//	                              constraint as for every task
//	                              (readConstraint): 0.3 with
//	                              none, rising to 0.9 at a
//	                              clear constraint (grade 0.6),
//	                              falling to 0 when asked to
//	                              elaborate; a long answer is
//	                              "Based on the passages, the
//	                              answer is V."
//
// Embeddings of a model whose name ends in a dash and a number (the tests
// use "simlm-embed-512") have that many dimensions when the request does
// not ask for some: 64 dimensions collide too often to tell 3,000
// templated passages apart.
//
// # Context window
//
// A chat request whose messages count more than Config.ContextTokens tokens
// (DefaultContextTokens, 8192, by default) is refused with 400, type
// invalid_request_error and code context_length_exceeded, with OpenAI's
// message ("This model's maximum context length is ... tokens. However,
// your messages resulted in ... tokens."). The shipped dataset.Archive is
// about twelve times that.
//
// # Measured accuracy
//
// TestAccuracy measures exact match (after dataset.Normalize) on the dev
// split of dataset.TrainDev(0, 100), 205 items (111 facts, 94 math), with
// the default configuration. The test asserts the ordering only; these are
// the numbers it logged:
//
//	program                          EM     contains   EM facts   EM math
//	zero-shot Predict                0.09   0.69       0.06       0.12
//	Predict, "Answer concisely."     0.68   0.69       0.87       0.45
//	Predict, 4 short labelled demos  0.70   0.73       0.85       0.52
//	ChainOfThought, concise          0.91   0.92       0.87       0.95
//
// So zero-shot answers contain the gold answer but rarely equal it; a better
// prompt (instructions or demos) fixes the style, and reasoning fixes the
// math.
//
// # Faults
//
// Faults (Config.Faults, WithFaults, SetFaults at run time) inject latency
// with jitter, 429 with Retry-After and retry-after-ms headers, 500, hangs
// (until the client goes away, the server closes or TimeoutMax passes, then
// 504) and garbled replies (damaged markers or a truncated JSON object), at
// rates drawn from a random source seeded by Config.Seed. For exact tests,
// FailNext queues statuses for the next requests and Faults.Script decides
// per request. Latency never holds a lock, so thousands of requests can be
// in flight.
//
// # Streaming
//
// A chat request with "stream": true is answered as OpenAI does, with
// server-sent events: a role chunk, the reply a few tokens per chunk
// (Faults.ChunkTokens, DefaultChunkTokens by default), a chunk with the
// finish reason, the usage when stream_options.include_usage asks for it,
// then "data: [DONE]". Latency delays the first chunk and
// Faults.ChunkLatency each later one; a client that goes away ends the
// stream. Faults.RateCut (or a scripted Fault.Cut) closes the connection
// after about half of the chunks, without a finish reason.
//
// # Counters
//
// Stats reports requests, statuses, the current and peak number of requests
// in flight, tokens served and garbled replies; Requests returns a log of
// finished requests with their arrival and end times, statuses, faults and
// announced Retry-After, for tests that check how clients retried.
// ResetStats starts both afresh. WaitIdle waits until no request is in
// flight, for tests that check that cancelled clients ended theirs.
package simlm
