namespace SdBlazor.Engine.Models.Sources;

/// <summary>
/// Where a diffusers/transformers weight comes from in a single-file checkpoint: the checkpoint tensor, optionally one
/// of <see cref="SplitCount"/> equal row blocks of it (OpenCLIP's fused q/k/v <c>in_proj</c>), optionally transposed
/// (OpenCLIP's <c>text_projection</c> is applied as <c>x @ P</c>, transformers' as a Linear: <c>Pᵀ</c>). A 1×1
/// convolution kernel [C, C, 1, 1] standing for a Linear [C, C] (the LDM VAE's attention) needs no change of bytes.
/// </summary>
public sealed record MappedWeight(string CheckpointKey, string Component, string Key, int SplitIndex = 0, int SplitCount = 1, bool Transpose = false)
{
    /// <summary>The weight's shape in diffusers terms, from the checkpoint tensor's shape.</summary>
    public long[] ShapeOf(long[] checkpointShape)
    {
        var shape = (long[])checkpointShape.Clone();
        if (SplitCount > 1 && shape.Length > 0) shape[0] /= SplitCount;
        if (Transpose && shape.Length == 2) (shape[0], shape[1]) = (shape[1], shape[0]);
        return shape;
    }
}

/// <summary>What <see cref="LdmKeyMap"/> makes of one checkpoint key.</summary>
public enum KeyKind
{
    /// <summary>A model weight with a diffusers name (see <see cref="MappedWeight"/>).</summary>
    Weight,
    /// <summary>Known and not needed: DDPM schedule buffers, EMA copies (A1111 loads the main weights), position_ids, logit_scale.</summary>
    Ignored,
    /// <summary>A key this mapping does not know.</summary>
    Unknown,
}
