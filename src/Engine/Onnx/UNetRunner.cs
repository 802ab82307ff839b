using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace SdBlazor.Engine.Onnx;

/// <summary>
/// Calls the UNet over buffers reused across steps: <c>sample</c> [batch, 4, h, w], <c>timestep</c>
/// (float32/float16/int64/int32; shaped [], [1] or [batch] as the model declares) and <c>encoder_hidden_states</c>
/// [batch, 77, hidden]; output <c>out_sample</c> [batch, 4, h, w]. Nothing large is allocated per step.
/// </summary>
public sealed class UNetRunner : IDisposable
{
    private readonly OnnxSession _session;
    private readonly string _sampleName, _timestepName, _hiddenName, _outputName;
    private readonly TensorElementType _timestepType;
    private readonly int[] _timestepDims;
    private string[] _inputNames = [];
    private string[] _outputNames = [];
    private OrtValue[] _inputs = [];
    private OrtValue[] _outputs = [];
    private PinnedTensor? _sample, _hidden, _output;
    private OrtValue? _timestepValue;
    private float[] _timestepFloats = [];
    private Float16[] _timestepHalves = [];
    private long[] _timestepLongs = [];
    private int[] _timestepInts = [];

    public UNetRunner(OnnxSession session)
    {
        _session = session;
        _sampleName = session.InputName("sample", 0);
        _timestepName = session.InputName("timestep", 1);
        _hiddenName = session.InputName("encoder_hidden_states", 2);
        _outputName = session.OutputName("out_sample", 0);
        session.RequireType(_sampleName, TensorElementType.Float, TensorElementType.Float16);
        session.RequireType(_hiddenName, TensorElementType.Float, TensorElementType.Float16);
        _timestepType = session.RequireType(_timestepName, TensorElementType.Float, TensorElementType.Float16, TensorElementType.Int64, TensorElementType.Int32);
        _timestepDims = session.InputMetadata(_timestepName).Dimensions;
        if (_timestepDims.Length > 1)
            throw new NotSupportedException($"unet: input '{_timestepName}' has rank {_timestepDims.Length}; a scalar, [1] or [batch] is expected.");
    }

    public TensorElementType SampleType => _session.InputMetadata(_sampleName).ElementDataType;
    public TensorElementType TimestepType => _timestepType;
    public OnnxSession Session => _session;

    public int Batch { get; private set; }

    /// <summary>UNet input, [batch, 4, h, w]; write before <see cref="Run"/>.</summary>
    public Span<float> Sample => _sample!.Span;

    /// <summary>Text conditioning, [batch, tokens, hidden]; write before <see cref="Run"/> (then call <see cref="UploadHiddenStates"/>).</summary>
    public Span<float> EncoderHiddenStates => _hidden!.Span;

    /// <summary>UNet output after <see cref="Run"/>, [batch, 4, h, w].</summary>
    public ReadOnlySpan<float> Output => _output!.Span;

    /// <summary>(Re)allocates the buffers when the shape changes; keeps them otherwise.</summary>
    public void Prepare(int batch, int latentChannels, int latentHeight, int latentWidth, int tokens, int hidden)
    {
        long[] sampleShape = [batch, latentChannels, latentHeight, latentWidth];
        long[] hiddenShape = [batch, tokens, hidden];
        if (_sample is not null && _sample.Shape.SequenceEqual(sampleShape) && _hidden!.Shape.SequenceEqual(hiddenShape)) return;

        ReleaseBuffers();
        var sampleDims = _session.InputMetadata(_sampleName).Dimensions;
        if (sampleDims.Length == 4 && sampleDims[0] > 0 && sampleDims[0] != batch)
            throw new NotSupportedException($"unet: the model has a fixed batch of {sampleDims[0]}, but this generation needs {batch} (batch size × 2 with CFG > 1).");

        Batch = batch;
        _sample = new PinnedTensor(_session.InputMetadata(_sampleName).ElementDataType, sampleShape);
        _hidden = new PinnedTensor(_session.InputMetadata(_hiddenName).ElementDataType, hiddenShape);
        _output = new PinnedTensor(_session.OutputMetadata(_outputName).ElementDataType, sampleShape);

        var timestepCount = _timestepDims.Length == 0 ? 1 : _timestepDims[0] > 0 ? _timestepDims[0] : batch;
        if (timestepCount != 1 && timestepCount != batch)
            throw new NotSupportedException($"unet: input '{_timestepName}' has a fixed length {timestepCount}, but the batch is {batch}.");
        long[] timestepShape = _timestepDims.Length == 0 ? [] : [timestepCount];
        _timestepValue = _timestepType switch
        {
            TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(_timestepFloats = new float[timestepCount], timestepShape),
            TensorElementType.Float16 => OrtValue.CreateTensorValueFromMemory(_timestepHalves = new Float16[timestepCount], timestepShape),
            TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(_timestepLongs = new long[timestepCount], timestepShape),
            _ => OrtValue.CreateTensorValueFromMemory(_timestepInts = new int[timestepCount], timestepShape),
        };

        _inputNames = [_sampleName, _timestepName, _hiddenName];
        _inputs = [_sample.Value, _timestepValue, _hidden.Value];
        _outputNames = [_outputName];
        _outputs = [_output.Value];
    }

    public void UploadHiddenStates() => _hidden!.Upload();

    /// <summary>The bare ONNX Runtime call of <see cref="Run"/> on the same OrtValues (no conversions): the benchmark's baseline.</summary>
    internal void RunSessionOnly(RunOptions runOptions) => _session.Session.Run(runOptions, _inputNames, _inputs, _outputNames, _outputs);

    /// <summary>One UNet call on <see cref="Sample"/> at <paramref name="timestep"/>; the result lands in <see cref="Output"/>.</summary>
    /// <remarks>Integer timestep inputs get the timestep truncated, as diffusers' ONNX pipeline's numpy cast does.</remarks>
    public void Run(float timestep, RunOptions runOptions)
    {
        switch (_timestepType)
        {
            case TensorElementType.Float: _timestepFloats.AsSpan().Fill(timestep); break;
            case TensorElementType.Float16: _timestepHalves.AsSpan().Fill((Float16)timestep); break;
            case TensorElementType.Int64: _timestepLongs.AsSpan().Fill((long)timestep); break;
            default: _timestepInts.AsSpan().Fill((int)timestep); break;
        }
        _sample!.Upload();
        _session.Session.Run(runOptions, _inputNames, _inputs, _outputNames, _outputs);
        _output!.Download();
    }

    private void ReleaseBuffers()
    {
        _sample?.Dispose();
        _hidden?.Dispose();
        _output?.Dispose();
        _timestepValue?.Dispose();
        _sample = _hidden = _output = null;
        _timestepValue = null;
    }

    public void Dispose() => ReleaseBuffers();
}
