"""Exercise l02.3: how many bytes a tensor takes, and where its data starts.

A quantized tensor is stored as blocks: :data:`BLOCKS` gives, for each type,
how many weights one block holds and how many bytes it takes. A tensor's rows
(its first dimension, the one that varies fastest) must be a whole number of
blocks. F32 and F16 are "blocks" of one weight.

Every tensor's data starts at a multiple of the file's alignment (32 bytes
unless the metadata key ``general.alignment`` says otherwise), and so does the
data section after the header.
"""

# type -> (weights per block, bytes per block)
BLOCKS = {
    "F32": (1, 4), "F16": (1, 2), "BF16": (1, 2),
    "Q4_0": (32, 18), "Q4_1": (32, 20), "Q5_0": (32, 22), "Q5_1": (32, 24), "Q8_0": (32, 34),
    "Q2_K": (256, 84), "Q3_K": (256, 110), "Q4_K": (256, 144), "Q5_K": (256, 176), "Q6_K": (256, 210),
}


def align(offset: int, alignment: int = 32) -> int:
    """The smallest multiple of ``alignment`` that is at least ``offset``.

    ``alignment`` must be a positive power of two (``ValueError`` otherwise).
    """
    # YOUR CODE HERE: exercise l02.3, Size a tensor and align its data
    raise NotImplementedError("exercise l02.3: read lessons/l02_slms_and_gguf/index.md#tensor-infos-and-alignment, then run `course check l02`")


def tensor_nbytes(shape: tuple, type_name: str) -> int:
    """Bytes of a tensor of ``shape`` (fastest dimension first, as GGUF stores it) in ``type_name``.

    Raise ``ValueError`` for an unknown type or when the first dimension is not
    a whole number of blocks.
    """
    # YOUR CODE HERE: exercise l02.3, Size a tensor and align its data
    raise NotImplementedError("exercise l02.3: read lessons/l02_slms_and_gguf/index.md#tensor-infos-and-alignment, then run `course check l02`")
