using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace SdBlazor.Engine.Onnx;

/// <summary>How a session relates to <see cref="OptimizedModelCache"/>.</summary>
public enum OptimizedCacheUse
{
    /// <summary>Made from the model file (cache off, another provider, a small model, or saving failed).</summary>
    None,
    /// <summary>Made from the saved optimised graph.</summary>
    Loaded,
    /// <summary>Made from the model file, and its optimised graph saved for the next start.</summary>
    Written,
}

/// <summary>
/// Owns one <see cref="InferenceSession"/> and the <see cref="SessionOptions"/> it was created with.
/// Reads input/output names and element types from the session instead of assuming them.
/// </summary>
public sealed class OnnxSession : IDisposable
{
    private readonly SessionOptions _options;

    internal OnnxSession(InferenceSession session, SessionOptions options, string role, string modelPath, string executionProvider)
    {
        Session = session;
        _options = options;
        Role = role;
        ModelPath = modelPath;
        ExecutionProvider = executionProvider;
        InputNames = session.InputNames.ToArray();
        OutputNames = session.OutputNames.ToArray();
    }

    public InferenceSession Session { get; }

    /// <summary>The file ONNX Runtime loaded: <see cref="ModelPath"/>, or the saved optimised graph of it (<see cref="OptimizedModelCache"/>).</summary>
    public string LoadedFrom { get => field ?? ModelPath; init; }

    /// <summary>What <see cref="OptimizedModelCache"/> did for this session.</summary>
    public OptimizedCacheUse Cache { get; init; }

    /// <summary>The options the session was created with (owned here; tests and the benchmark read them).</summary>
    internal SessionOptions Options => _options;
    public string Role { get; }
    public string ModelPath { get; }

    /// <summary>"CPU", "CUDA" or "DirectML": the provider this session actually runs on.</summary>
    public string ExecutionProvider { get; }

    public IReadOnlyList<string> InputNames { get; }
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>The input called <paramref name="preferred"/> (diffusers export name), else the one at <paramref name="fallbackIndex"/>.</summary>
    public string InputName(string preferred, int fallbackIndex) => PickName(InputNames, preferred, fallbackIndex, "input");

    public string OutputName(string preferred, int fallbackIndex) => PickName(OutputNames, preferred, fallbackIndex, "output");

    public NodeMetadata InputMetadata(string name) => Session.InputMetadata[name];
    public NodeMetadata OutputMetadata(string name) => Session.OutputMetadata[name];

    /// <summary>Throws a clear error unless <paramref name="type"/> is one of <paramref name="supported"/>.</summary>
    public TensorElementType RequireType(string inputName, params TensorElementType[] supported)
    {
        var type = InputMetadata(inputName).ElementDataType;
        if (Array.IndexOf(supported, type) < 0)
            throw new NotSupportedException($"{Role}: input '{inputName}' has element type {type}; supported: {string.Join(", ", supported)}.");
        return type;
    }

    /// <summary>
    /// Runs with one float input and reads one float output (converting at the boundary for float16 models).
    /// For the once-per-image models (text encoder aside): VAE encoder/decoder, TAESD.
    /// </summary>
    public float[] RunFloat(string inputName, ReadOnlySpan<float> input, long[] shape, string outputName, RunOptions runOptions, out long[] outputShape)
    {
        using var inputValue = CreateFloatTensor(InputMetadata(inputName).ElementDataType, input, shape);
        using var outputs = Session.Run(runOptions, [inputName], [inputValue], [outputName]);
        return ReadFloats(outputs[0], out outputShape);
    }

    /// <summary>A new tensor of <paramref name="type"/> (Float or Float16) holding <paramref name="data"/>.</summary>
    public static OrtValue CreateFloatTensor(TensorElementType type, ReadOnlySpan<float> data, long[] shape)
    {
        switch (type)
        {
            case TensorElementType.Float:
                return OrtValue.CreateTensorValueFromMemory(data.ToArray(), shape);
            case TensorElementType.Float16:
                var halves = new Float16[data.Length];
                TensorPrimitives.ConvertToHalf(data, MemoryMarshal.Cast<Float16, Half>(halves.AsSpan()));
                return OrtValue.CreateTensorValueFromMemory(halves, shape);
            default:
                throw new NotSupportedException($"Element type {type} where float32 or float16 was expected.");
        }
    }

    /// <summary>Copies a Float or Float16 tensor out as float32.</summary>
    public static float[] ReadFloats(OrtValue value, out long[] shape)
    {
        var info = value.GetTensorTypeAndShape();
        shape = info.Shape;
        var result = new float[info.ElementCount];
        switch (info.ElementDataType)
        {
            case TensorElementType.Float:
                value.GetTensorDataAsSpan<float>().CopyTo(result);
                break;
            case TensorElementType.Float16:
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<Float16, Half>(value.GetTensorDataAsSpan<Float16>()), result);
                break;
            default:
                throw new NotSupportedException($"Output element type {info.ElementDataType} where float32 or float16 was expected.");
        }
        return result;
    }

    private string PickName(IReadOnlyList<string> names, string preferred, int fallbackIndex, string what)
    {
        if (names.Contains(preferred)) return preferred;
        if (fallbackIndex < names.Count) return names[fallbackIndex];
        throw new NotSupportedException($"{Role}: the model has no {what} '{preferred}' (it has: {string.Join(", ", names)}).");
    }

    public void Dispose()
    {
        Session.Dispose();
        _options.Dispose();
    }
}
