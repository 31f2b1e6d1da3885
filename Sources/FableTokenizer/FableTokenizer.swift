// FableTokenizer: byte-level BPE in the GPT-2 form. The GPT-2 pre-tokenizer,
// the BPE trainer, the encoder/decoder and the vocab/merges files each live in a file
// of their own in this folder.
