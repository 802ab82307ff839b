namespace SdBlazor.Engine.Models.Sources;

/// <summary>One entry of a safetensors header.</summary>
/// <param name="Offset">Bytes from the start of the data area (after the header).</param>
public sealed record SafetensorsTensor(string Name, SafetensorsDType DType, long[] Shape, long Offset, long Length)
{
    public long ElementCount => Length / DType.Size();

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
