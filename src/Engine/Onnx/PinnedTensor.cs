using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace SdBlazor.Engine.Onnx;

/// <summary>
/// A float32 working buffer that the pipeline reads and writes, bound (pinned, no copy) to an <see cref="OrtValue"/> of
/// the session's element type. For float16 sessions a second pooled buffer holds the halves and
/// <see cref="Upload"/>/<see cref="Download"/> convert at the boundary. Buffers come from <see cref="ArrayPool{T}"/>
/// so that repeated generations of the same size do not allocate on the large object heap.
/// </summary>
public sealed class PinnedTensor : IDisposable
{
    private readonly float[] _floats;
    private readonly Float16[]? _halves;
    private bool _disposed;

    public PinnedTensor(TensorElementType type, long[] shape)
    {
        Shape = shape;
        Length = checked((int)shape.Aggregate(1L, (a, b) => a * b));
        ElementType = type;
        _floats = ArrayPool<float>.Shared.Rent(Length);
        switch (type)
        {
            case TensorElementType.Float:
                Value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _floats.AsMemory(0, Length), shape);
                break;
            case TensorElementType.Float16:
                _halves = ArrayPool<Float16>.Shared.Rent(Length);
                Value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _halves.AsMemory(0, Length), shape);
                break;
            default:
                ArrayPool<float>.Shared.Return(_floats);
                throw new NotSupportedException($"Element type {type} where float32 or float16 was expected.");
        }
    }

    public TensorElementType ElementType { get; }
    public long[] Shape { get; }
    public int Length { get; }
    public OrtValue Value { get; }

    public Span<float> Span => _floats.AsSpan(0, Length);
    public Memory<float> Memory => _floats.AsMemory(0, Length);

    /// <summary>Makes <see cref="Value"/> reflect <see cref="Span"/> (converts to float16 when the session wants it).</summary>
    public void Upload()
    {
        if (_halves is not null) TensorPrimitives.ConvertToHalf(Span, MemoryMarshal.Cast<Float16, Half>(_halves.AsSpan(0, Length)));
    }

    /// <summary>Makes <see cref="Span"/> reflect <see cref="Value"/> after a run wrote it.</summary>
    public void Download()
    {
        if (_halves is not null) TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<Float16, Half>(_halves.AsSpan(0, Length)), Span);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Value.Dispose();
        ArrayPool<float>.Shared.Return(_floats);
        if (_halves is not null) ArrayPool<Float16>.Shared.Return(_halves);
    }
}
