using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace SdBlazor.Engine.Onnx;

/// <summary>
/// Calls the UNet over buffers reused across steps: <c>sample</c> [batch, <see cref="InChannels"/>, h, w] (4, or 9 for an
/// inpainting UNet: latents ++ mask ++ masked-image latents), <c>timestep</c>
/// (float32/float16/int64/int32; shaped [], [1] or [batch] as the model declares) and <c>encoder_hidden_states</c>
/// [batch, 77, hidden]; output <c>out_sample</c> [batch, 4, h, w]. Nothing large is allocated per step.
/// Owns its session.
/// </summary>
/// <remarks>
/// With a <c>fixedShapeSessions</c> factory (DirectML by default, <see cref="EngineOptions.FixedUNetShapes"/>), every new
/// shape gets a session whose symbolic dimensions (batch, height, width, tokens — whatever names the export gave them)
/// are fixed by ONNX Runtime's free-dimension overrides, which DirectML needs to plan and fuse its kernels. The previous
/// session is released first, so only one copy of the weights is on the device at a time; the price is a session
/// creation whenever the size, batch or CFG changes.
/// </remarks>
public sealed class UNetRunner : IDisposable
{
    private OnnxSession _session;
    private readonly Func<IReadOnlyDictionary<string, long>, OnnxSession>? _fixedShapeSessions;
    private readonly Dictionary<string, string[]> _symbols = [];
    private readonly int[] _modelSampleDims;
    private readonly string _sampleName, _timestepName, _hiddenName, _outputName;
    private readonly TensorElementType _timestepType;
    private readonly int[] _timestepDims;
    private string[] _inputNames = [];
    private string[] _outputNames = [];
    private OrtValue[] _inputs = [];
    private OrtValue[] _outputs = [];
    private PinnedTensor? _sample, _hidden, _output, _textEmbeds, _timeIds;
    // SDXL's added conditioning (diffusers' addition_embed_type "text_time"); null for SD 1.x/2.x UNets.
    private readonly string? _textEmbedsName, _timeIdsName;
    private OrtValue? _timestepValue;
    private float[] _timestepFloats = [];
    private Float16[] _timestepHalves = [];
    private long[] _timestepLongs = [];
    private int[] _timestepInts = [];

    /// <param name="session">Owned from here on.</param>
    /// <param name="fixedShapeSessions">Creates a session with these free-dimension overrides; null: one session for every shape.</param>
    /// <param name="inChannels">Given the sample input's name: its channels when the graph leaves that axis symbolic (from <c>unet/config.json</c> or the first convolution's weight); null: 4.</param>
    public UNetRunner(OnnxSession session, Func<IReadOnlyDictionary<string, long>, OnnxSession>? fixedShapeSessions = null, Func<string, int?>? inChannels = null)
    {
        _session = session;
        _fixedShapeSessions = fixedShapeSessions;
        _sampleName = session.InputName("sample", 0);
        _timestepName = session.InputName("timestep", 1);
        _hiddenName = session.InputName("encoder_hidden_states", 2);
        _outputName = session.OutputName("out_sample", 0);
        session.RequireType(_sampleName, TensorElementType.Float, TensorElementType.Float16);
        if (session.InputNames.Contains("text_embeds") && session.InputNames.Contains("time_ids"))
        {
            _textEmbedsName = "text_embeds";
            _timeIdsName = "time_ids";
            session.RequireType(_textEmbedsName, TensorElementType.Float, TensorElementType.Float16);
            session.RequireType(_timeIdsName, TensorElementType.Float, TensorElementType.Float16);
        }
        session.RequireType(_hiddenName, TensorElementType.Float, TensorElementType.Float16);
        _timestepType = session.RequireType(_timestepName, TensorElementType.Float, TensorElementType.Float16, TensorElementType.Int64, TensorElementType.Int32);
        _timestepDims = session.InputMetadata(_timestepName).Dimensions;
        if (_timestepDims.Length > 1)
            throw new NotSupportedException($"unet: input '{_timestepName}' has rank {_timestepDims.Length}; a scalar, [1] or [batch] is expected.");
        _modelSampleDims = session.InputMetadata(_sampleName).Dimensions;
        InChannels = _modelSampleDims.Length == 4 && _modelSampleDims[1] > 0 ? _modelSampleDims[1] : inChannels?.Invoke(_sampleName) ?? 4;
        if (InChannels is not (4 or 9))
            throw new NotSupportedException($"unet: input '{_sampleName}' takes {InChannels} channels; 4 (text-to-image) or 9 (inpainting) are supported.");
        // Read once: a session made with overrides may no longer report the names.
        foreach (var name in new[] { _sampleName, _timestepName, _hiddenName, _textEmbedsName, _timeIdsName }.OfType<string>())
            _symbols[name] = session.InputMetadata(name).SymbolicDimensions;
        _symbols[_outputName] = session.OutputMetadata(_outputName).SymbolicDimensions;
    }

    /// <summary>4, or 9 for an inpainting UNet (diffusers' channel order: latents, mask, masked-image latents).</summary>
    public int InChannels { get; }

    public bool IsInpainting => InChannels == 9;

    /// <summary>The batch the model was exported with, or null when it is dynamic.</summary>
    public int? FixedBatch => _modelSampleDims.Length == 4 && _modelSampleDims[0] > 0 ? _modelSampleDims[0] : null;

    /// <summary>
    /// The token count the model's <c>encoder_hidden_states</c> was exported with (e.g. 77), or null when the sequence
    /// axis is dynamic (77 × chunks for long prompts).
    /// </summary>
    public int? FixedSequenceLength
    {
        get
        {
            var dims = _session.InputMetadata(_hiddenName).Dimensions;
            return dims.Length == 3 && dims[1] > 0 && string.IsNullOrEmpty(_symbols[_hiddenName].ElementAtOrDefault(1)) ? dims[1] : null;
        }
    }

    /// <summary>Whether every new shape gets its own session (DirectML): shapes should then change as rarely as possible.</summary>
    public bool FixesShapes => _fixedShapeSessions is not null;

    /// <summary>The free-dimension overrides the current session was made with (empty: a session for every shape).</summary>
    public IReadOnlyDictionary<string, long> FixedShape { get; private set; } = new Dictionary<string, long>();

    public TensorElementType SampleType => _session.InputMetadata(_sampleName).ElementDataType;
    public TensorElementType TimestepType => _timestepType;
    public OnnxSession Session => _session;

    public int Batch { get; private set; }

    /// <summary>Whether the UNet takes SDXL's <c>text_embeds</c> [batch, pooled] and <c>time_ids</c> [batch, 6] inputs.</summary>
    public bool TakesAddedConditioning => _textEmbedsName is not null;

    /// <summary>
    /// Numbers per row of <c>time_ids</c>: 6 for SDXL base (sizes and crop), 5 for the refiner (size, crop, aesthetic
    /// score), read from the model's fixed second dimension; 6 when it is symbolic.
    /// </summary>
    public int TimeIdsWidth => _timeIdsName is not null && _session.InputMetadata(_timeIdsName).Dimensions is [_, > 0 and var w] ? w : 6;

    /// <summary>Pooled text embeddings [batch, pooled] (SDXL); write before <see cref="Run"/>, then <see cref="UploadHiddenStates"/>.</summary>
    public Span<float> TextEmbeds => _textEmbeds!.Span;

    /// <summary><c>add_time_ids</c> [batch, 6] (SDXL); write before <see cref="Run"/>, then <see cref="UploadHiddenStates"/>.</summary>
    public Span<float> TimeIds => _timeIds!.Span;

    /// <summary>Tests look at what the pipeline feeds the UNet (its sample and timestep) just before each run.</summary>
    internal SampleObserver? InputObserver { get; set; }

    internal delegate void SampleObserver(ReadOnlySpan<float> sample, float timestep);

    /// <summary>Number of UNet runs since this runner was created (tests check that CFG 1 costs one batch-1 run per step).</summary>
    public long Runs { get; private set; }

    /// <summary>Sum over runs of the batch each run processed.</summary>
    public long RunItems { get; private set; }

    /// <summary>UNet input, [batch, <see cref="InChannels"/>, h, w]; write before <see cref="Run"/>.</summary>
    public Span<float> Sample => _sample!.Span;

    /// <summary>Text conditioning, [batch, tokens, hidden]; write before <see cref="Run"/> (then call <see cref="UploadHiddenStates"/>).</summary>
    public Span<float> EncoderHiddenStates => _hidden!.Span;

    /// <summary>UNet output after <see cref="Run"/>, [batch, 4, h, w].</summary>
    public ReadOnlySpan<float> Output => _output!.Span;

    /// <summary>(Re)allocates the buffers when the shape changes; keeps them otherwise.</summary>
    /// <param name="latentChannels">The output's channels (the latents'); the input has <see cref="InChannels"/>.</param>
    /// <param name="pooled">Width of the pooled text embedding (SDXL UNets only; ignored otherwise).</param>
    public void Prepare(int batch, int latentChannels, int latentHeight, int latentWidth, int tokens, int hidden, int pooled = 0)
    {
        long[] sampleShape = [batch, InChannels, latentHeight, latentWidth];
        long[] outputShape = [batch, latentChannels, latentHeight, latentWidth];
        long[] hiddenShape = [batch, tokens, hidden];
        long[] textEmbedsShape = [batch, pooled];
        if (_textEmbedsName is not null && pooled <= 0)
            throw new NotSupportedException("unet: the model takes SDXL's 'text_embeds' and 'time_ids' inputs, but the pipeline gave no pooled text embedding.");
        if (_sample is not null && _sample.Shape.SequenceEqual(sampleShape) && _hidden!.Shape.SequenceEqual(hiddenShape)
            && (_textEmbeds is null || _textEmbeds.Shape.SequenceEqual(textEmbedsShape))) return;

        ReleaseBuffers();
        if (FixedBatch is { } fixedBatch && fixedBatch != batch)
            throw new NotSupportedException($"unet: the model has a fixed batch of {fixedBatch}, but this generation needs {batch} (batch size × 2 with CFG > 1).");
        if (_fixedShapeSessions is not null) FixShapes(sampleShape, outputShape, hiddenShape, pooled);

        Batch = batch;
        _sample = new PinnedTensor(_session.InputMetadata(_sampleName).ElementDataType, sampleShape);
        _hidden = new PinnedTensor(_session.InputMetadata(_hiddenName).ElementDataType, hiddenShape);
        _output = new PinnedTensor(_session.OutputMetadata(_outputName).ElementDataType, outputShape);
        if (_textEmbedsName is not null)
        {
            _textEmbeds = new PinnedTensor(_session.InputMetadata(_textEmbedsName).ElementDataType, textEmbedsShape);
            _timeIds = new PinnedTensor(_session.InputMetadata(_timeIdsName!).ElementDataType, [batch, TimeIdsWidth]);
        }

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

        _inputNames = _textEmbedsName is null ? [_sampleName, _timestepName, _hiddenName] : [_sampleName, _timestepName, _hiddenName, _textEmbedsName, _timeIdsName!];
        _inputs = _textEmbeds is null ? [_sample.Value, _timestepValue, _hidden.Value] : [_sample.Value, _timestepValue, _hidden.Value, _textEmbeds.Value, _timeIds!.Value];
        _outputNames = [_outputName];
        _outputs = [_output.Value];
    }

    /// <summary>
    /// Replaces the session by one whose symbolic dimensions are fixed to this shape. A name that two inputs would fix to
    /// different values stays free; dimensions without a name cannot be overridden and stay free too.
    /// </summary>
    private void FixShapes(long[] sampleShape, long[] outputShape, long[] hiddenShape, int pooled)
    {
        var values = new Dictionary<string, long>();
        var conflicting = new HashSet<string>();
        void Bind(string input, long[] shape)
        {
            var names = _symbols[input];
            for (var i = 0; i < Math.Min(names.Length, shape.Length); i++)
            {
                if (string.IsNullOrEmpty(names[i])) continue;
                if (values.TryGetValue(names[i], out var bound) && bound != shape[i]) conflicting.Add(names[i]);
                else values[names[i]] = shape[i];
            }
        }
        Bind(_sampleName, sampleShape);
        Bind(_outputName, outputShape);
        Bind(_hiddenName, hiddenShape);
        if (_textEmbedsName is not null) Bind(_textEmbedsName, [sampleShape[0], pooled]);
        if (_timeIdsName is not null) Bind(_timeIdsName, [sampleShape[0], TimeIdsWidth]);
        if (_timestepDims.Length == 1) Bind(_timestepName, [_timestepDims[0] > 0 ? _timestepDims[0] : sampleShape[0]]);
        foreach (var name in conflicting) values.Remove(name);

        if (values.Count == FixedShape.Count && values.All(v => FixedShape.TryGetValue(v.Key, out var current) && current == v.Value)) return;
        // Release first: on a GPU two sessions would hold two copies of the weights.
        _session.Dispose();
        try
        {
            _session = _fixedShapeSessions!(values);
            FixedShape = values;
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or Models.ModelFolderException)
        {
            // The provider cannot build this shape: one session for every shape, as without overrides.
            _session = _fixedShapeSessions!(new Dictionary<string, long>());
            FixedShape = new Dictionary<string, long>();
        }
    }

    public void UploadHiddenStates()
    {
        _hidden!.Upload();
        _textEmbeds?.Upload();
        _timeIds?.Upload();
    }

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
        InputObserver?.Invoke(Sample, timestep);
        _session.Session.Run(runOptions, _inputNames, _inputs, _outputNames, _outputs);
        Runs++;
        RunItems += Batch;
        _output!.Download();
    }

    private void ReleaseBuffers()
    {
        _sample?.Dispose();
        _hidden?.Dispose();
        _output?.Dispose();
        _textEmbeds?.Dispose();
        _timeIds?.Dispose();
        _timestepValue?.Dispose();
        _sample = _hidden = _output = _textEmbeds = _timeIds = null;
        _timestepValue = null;
    }

    public void Dispose()
    {
        ReleaseBuffers();
        _session.Dispose();
    }
}
