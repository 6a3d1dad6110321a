"""`python3 main.py import STATE_DICT.pt --vocab VOCAB.txt --out CKPT.json [--n-head 4]`: a PyTorch state_dict of
the mini GPT read into a checkpoint the explorer and every command open (engine.state_dict_import says how)."""

from engine import checkpoint as ckpt_io
from engine.files import check_not_input, check_output
from engine.state_dict_import import import_model, read_state_dict, read_vocabulary


def add_parser(commands):
    parser = commands.add_parser('import', help="read a PyTorch state_dict of the mini GPT (nanoGPT's names) and its "
                                                'character vocabulary into a checkpoint (needs the torch extra)')
    parser.add_argument('state_dict', metavar='STATE_DICT.pt', help='torch.save(model.state_dict(), …), or nanoGPT\'s '
                        'ckpt.pt; read with torch.load(weights_only=True)')
    parser.add_argument('--vocab', required=True, metavar='VOCAB.txt',
                        help='a UTF-8 text whose characters are the vocabulary, in sorted order (sorted(set(text))): '
                        'the text the model was trained on serves')
    parser.add_argument('--n-head', type=int, default=4, help='the attention heads (shapes cannot tell; default 4)')
    parser.add_argument('--out', required=True, metavar='CKPT.json', help='the checkpoint to write (JSON)')


def cmd_import(args, out):
    check_output(args.out)
    check_not_input(args.out, (args.state_dict, 'the state_dict'), (args.vocab, 'the vocabulary'))
    uchars = read_vocabulary(args.vocab)
    model, words = import_model(read_state_dict(args.state_dict), uchars, args.n_head)
    ckpt_io.save(args.out, ckpt_io.Checkpoint(model))
    print(f'imported the mini GPT: {words}; {len(model.params):,} parameters, written to {args.out}', file=out)
