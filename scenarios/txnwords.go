package scenarios

import (
	"fmt"

	"kafkasim/broker/client"
)

// The words that drive a transactional producer by hand: begin P, commit P, abort P
// (KafkaProducer.beginTransaction, commitTransaction, abortTransaction), with send P N in
// between. commit C on a consumer commits its offsets (groups.go).
//
// The parser follows each producer's transaction down the script (the statements run in
// order), so misuse is a parse error at its place: begin on a producer that is not
// transactional or has a rate (its transactions are the workload's), begin twice, commit or
// abort with no transaction begun, send or rate on a producer driven by hand outside begin …
// commit. A statement typed in the terminal UI is checked against the producer as it runs.

// txnOp is a statement's transaction operation (begin, commit, abort), 0 for others.
type txnOp = client.TxnOp

// handState is what the parser knows of a producer driven by hand.
type handState struct {
	open  int // the line of the begin of the transaction open here, 0 when none
	first int // the line of its first begin
}

// hand is the parser's state of producer name, nil if the script never began one of its
// transactions.
func (p *parser) hand(name string) *handState {
	return p.hands[name]
}

// begin P
func (p *parser) begin(st *stmt, toks []token) error {
	pd, err := p.txnProducer(st, toks, "begin")
	if err != nil {
		return err
	}
	if pd.rate > 0 {
		return p.errTok(toks[1], "begin: producer %s has rate=%v/s, and its transactions are the workload's (transaction.records=N); a producer driven by hand has no rate", pd.name, pd.rate)
	}
	if p.hands == nil {
		p.hands = map[string]*handState{}
	}
	h := p.hands[pd.name]
	if h == nil {
		if at := p.rated[pd.name]; at != 0 {
			return p.errTok(toks[1], "begin: producer %s was given a rate at line %d, and its transactions are the workload's; a producer driven by hand has no rate", pd.name, at)
		}
		h = &handState{first: p.line}
		p.hands[pd.name] = h
	}
	if h.open != 0 && !p.typed() {
		return p.errTok(toks[0], "begin: %s's transaction begun at line %d is still open (commit %s or abort %s first)", pd.name, h.open, pd.name, pd.name)
	}
	h.open = p.line
	st.txn = client.TxnBegin
	return nil
}

// commitOrAbort reads commit P or abort P for a producer P (commit C on a consumer is groups.go's).
func (p *parser) commitOrAbort(st *stmt, toks []token) error {
	verb := toks[0].text
	pd, err := p.txnProducer(st, toks, verb)
	if err != nil {
		return err
	}
	if h := p.hand(pd.name); !p.typed() && (h == nil || h.open == 0) {
		return p.errTok(toks[0], "%s: %s has no transaction open here (begin %s first)", verb, pd.name, pd.name)
	}
	if h := p.hand(pd.name); h != nil {
		h.open = 0
	}
	st.txn = client.TxnCommit
	if verb == "abort" {
		st.txn = client.TxnAbort
	}
	return nil
}

// txnProducer reads the transactional producer of begin, commit or abort.
func (p *parser) txnProducer(st *stmt, toks []token, verb string) (*producerDef, error) {
	if len(toks) != 2 {
		return nil, p.errTok(toks[0], "%s: expected %s PRODUCER, e.g. %s p1", verb, verb, verb)
	}
	pd := p.s.producer(toks[1].text)
	switch {
	case pd == nil && verb == "abort" && p.s.consumer(toks[1].text) != nil:
		return nil, p.errTok(toks[1], "abort: %s is a consumer; abort ends a transactional producer's transaction", toks[1].text)
	case pd == nil:
		return nil, p.errTok(toks[1], "%s: unknown producer %q", verb, toks[1].text)
	case pd.cfg.TransactionalID == "":
		return nil, p.errTok(toks[1], "%s: producer %s is not transactional (add transactional.id=ID)", verb, pd.name)
	}
	st.name = pd.name
	return pd, nil
}

// commitWord reads commit: a producer's transaction, or a consumer's offsets.
func (p *parser) commitWord(st *stmt, toks []token) error {
	if len(toks) >= 2 && p.s.producer(toks[1].text) != nil {
		return p.commitOrAbort(st, toks)
	}
	return p.commit(st, toks)
}

// checkHandSend refuses send P N on a producer driven by hand outside begin … commit.
func (p *parser) checkHandSend(toks []token) error {
	h := p.hand(toks[1].text)
	if h == nil || h.open != 0 || p.typed() {
		return nil
	}
	return p.errTok(toks[0], "send: %s is driven by hand (begin at line %d): send its records between begin %s and commit %s or abort %s", toks[1].text, h.first, toks[1].text, toks[1].text, toks[1].text)
}

// checkHandRate refuses rate P on a producer driven by hand, and remembers a rate given.
func (p *parser) checkHandRate(toks []token) error {
	name := toks[1].text
	if h := p.hand(name); h != nil {
		return p.errTok(toks[0], "rate: %s is driven by hand (begin at line %d): it has no rate", name, h.first)
	}
	if pd := p.s.producer(name); pd != nil && pd.cfg.TransactionalID != "" {
		if p.rated == nil {
			p.rated = map[string]int{}
		}
		if p.rated[name] == 0 {
			p.rated[name] = p.line
		}
	}
	return nil
}

// typed reports whether the parser reads a statement typed in the terminal UI, whose order the
// script does not fix: it is checked when it runs.
func (p *parser) typed() bool { return p.file == commandFile }

func runBegin(p *Player, st *stmt) (NoteKind, error) {
	if p.typing {
		if pr := p.c.Producer(st.name); pr != nil && pr.HandTransaction() {
			return 0, fmt.Errorf("%s's transaction is already open (commit or abort it first)", st.name)
		}
	}
	return NoteRan, p.c.Transaction(st.name, st.txn)
}

// runCommitWord ends a producer's transaction, or commits a consumer's offsets.
func runCommitWord(p *Player, st *stmt) (NoteKind, error) {
	if st.txn == 0 {
		return runCommit(p, st)
	}
	return runEnd(p, st)
}

func runEnd(p *Player, st *stmt) (NoteKind, error) {
	if p.typing {
		if pr := p.c.Producer(st.name); pr == nil || !pr.HandTransaction() {
			return 0, fmt.Errorf("%s has no transaction begun by hand (begin %s first)", st.name, st.name)
		}
	}
	return NoteRan, p.c.Transaction(st.name, st.txn)
}
