"""Random SymPy expression trees for the property tests of code generation (``test_codegen``,
``test_llvm_kernel``): each test gives its own leaves and operations."""

from hypothesis import strategies as st


def expression_trees(leaves, unary, binary, depth: int = 4):
    """Trees of depth at most ``depth``: a leaf, a unary operation of a subtree, or a binary one of two."""

    @st.composite
    def trees(draw, depth=depth):
        if depth == 0 or draw(st.integers(0, 3)) == 0:
            return draw(st.sampled_from(leaves))
        if draw(st.booleans()):
            return draw(st.sampled_from(unary))(draw(trees(depth - 1)))
        return draw(st.sampled_from(binary))(draw(trees(depth - 1)), draw(trees(depth - 1)))

    return trees()
