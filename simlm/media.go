package simlm

import (
	"encoding/base64"
	"regexp"
	"strings"
)

// The simulator's eyes. An image part (OpenAI's image_url, an Anthropic
// image block) is read as a deterministic description derived from the
// image: from its decoded bytes for a base64 data: URL, from the URL
// otherwise. The description takes the image's place in the text the
// model reads, as "[image: a red bicycle on a beach]"; a question the
// simulator does not know, asked about a prompt that holds an image, is
// answered with the description. Nothing is downloaded.

var (
	imageColours  = []string{"red", "blue", "green", "yellow", "black", "white", "orange", "purple"}
	imageSubjects = []string{"cat", "dog", "bicycle", "house", "tree", "car", "boat", "bird", "teapot", "mountain", "clock", "guitar"}
	imagePlaces   = []string{"on a beach", "in a field", "in a kitchen", "on a street", "in the snow", "in a forest", "at night", "on a table"}
)

// DescribeImage returns what the simulator sees in the image at url (an
// http(s) URL or a base64 data: URL): a short phrase such as "a red
// bicycle on a beach", the same for the same image on every run.
func DescribeImage(url string) string {
	seed := "url:" + url
	if rest, ok := strings.CutPrefix(url, "data:"); ok {
		if _, data, ok := strings.Cut(rest, ";base64,"); ok {
			if b, err := base64.StdEncoding.DecodeString(data); err == nil {
				seed = "bytes:" + string(b)
			}
		}
	}
	h := hashOf("image", seed)
	colour := imageColours[h%uint64(len(imageColours))]
	subject := imageSubjects[(h>>8)%uint64(len(imageSubjects))]
	place := imagePlaces[(h>>16)%uint64(len(imagePlaces))]
	return "a " + colour + " " + subject + " " + place
}

// imageText is the text an image part becomes.
func imageText(url string) string { return "[image: " + DescribeImage(url) + "]" }

// imageMarker finds the descriptions of images in a text.
var imageMarker = regexp.MustCompile(`\[image: ([a-z ]+)\]`)

// imagesIn returns the descriptions of the images in text, joined by
// " and ", or "".
func imagesIn(text string) string {
	ms := imageMarker.FindAllStringSubmatch(text, -1)
	descs := make([]string, len(ms))
	for i, m := range ms {
		descs[i] = m[1]
	}
	return strings.Join(descs, " and ")
}

// imageURLPart is the image_url of an OpenAI content part.
type imageURLPart struct {
	URL string `json:"url"`
}

// anthropicImageSource is the source of an Anthropic image block.
type anthropicImageSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type"`
	Data      string `json:"data"`
	URL       string `json:"url"`
}

// url is the source as a URL: a data: URL for a base64 source.
func (s *anthropicImageSource) url() string {
	if s == nil {
		return ""
	}
	if s.Type == "base64" {
		return "data:" + s.MediaType + ";base64," + s.Data
	}
	return s.URL
}
