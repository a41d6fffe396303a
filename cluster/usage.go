package cluster

import (
	"github.com/dspex-go/dspex/cluster/pb"
	"github.com/dspex-go/dspex/lm"
)

// usageToWire is u as the wire's Usage, prompt-cache counts included.
func usageToWire(u lm.Usage) *pb.Usage {
	return &pb.Usage{
		PromptTokens:     int64(u.PromptTokens),
		CompletionTokens: int64(u.CompletionTokens),
		TotalTokens:      int64(u.TotalTokens),
		CacheReadTokens:  int64(u.CacheReadTokens),
		CacheWriteTokens: int64(u.CacheWriteTokens),
	}
}

// usageFromWire is the lm.Usage of u; nil is no usage.
func usageFromWire(u *pb.Usage) lm.Usage {
	if u == nil {
		return lm.Usage{}
	}
	return lm.Usage{
		PromptTokens:     int(u.PromptTokens),
		CompletionTokens: int(u.CompletionTokens),
		TotalTokens:      int(u.TotalTokens),
		CacheReadTokens:  int(u.CacheReadTokens),
		CacheWriteTokens: int(u.CacheWriteTokens),
	}
}
