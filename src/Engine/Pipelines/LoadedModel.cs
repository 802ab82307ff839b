using SdBlazor.Engine.Models;
using SdBlazor.Engine.Onnx;
using SdBlazor.Engine.Previews;
using SdBlazor.Engine.Tokenization;

namespace SdBlazor.Engine.Pipelines;

/// <summary>
/// The sessions and tokenizer of one model folder, loaded together after full validation. Owns every session;
/// disposing releases them (model unload, refresh, or switching to another model).
/// </summary>
public sealed class LoadedModel : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    private LoadedModel(ModelFolder folder) => Folder = folder;

    public ModelFolder Folder { get; }
    /// <summary>CLIP-L's tokenizer; a refiner's is bigG's (the refiner has no CLIP-L).</summary>
    public ClipTokenizer Tokenizer { get; private set; } = null!;

    /// <summary>The (first) text encoder; not loaded for an SDXL refiner (<see cref="ModelFolder.IsRefiner"/>), which only has <see cref="TextEncoder2"/>.</summary>
    public TextEncoderRunner TextEncoder { get; private set; } = null!;

    /// <summary>SDXL's second tokenizer and text encoder; null for SD 1.x/2.x.</summary>
    public ClipTokenizer? Tokenizer2 { get; private set; }
    public TextEncoderRunner? TextEncoder2 { get; private set; }

    public bool IsSdxl => TextEncoder2 is not null;
    public UNetRunner UNet { get; private set; } = null!;
    public VaeDecoderRunner VaeDecoder { get; private set; } = null!;
    public VaeEncoderRunner? VaeEncoder { get; private set; }
    public ILatentPreviewer Previewer { get; private set; } = null!;

    /// <summary>The UNet's execution provider ("CPU", "CUDA", "DirectML"), reported with every generation.</summary>
    public string ExecutionProvider => UNet.Session.ExecutionProvider;

    /// <exception cref="ModelFolderException">The folder is incomplete or a file is corrupt.</exception>
    /// <param name="fixedUNetShapes">Whether the UNet gets a session per shape (<see cref="EngineOptions.FixedUNetShapes"/>).</param>
    public static LoadedModel Load(ModelFolder described, SessionFactory sessions, bool useTaesd, FixedShapes fixedUNetShapes = FixedShapes.Auto)
    {
        var folder = ModelFolder.Open(described.Path, described.Name);
        var model = new LoadedModel(folder);
        try
        {
            if (!folder.IsRefiner)
            {
                model.Tokenizer = ClipTokenizer.Load(folder.TokenizerFolder);
                var textEncoder = model.Own(sessions.Create(folder.TextEncoderPath, "text_encoder"));
                model.TextEncoder = model.Own(new TextEncoderRunner(textEncoder, edited => sessions.CreateEdited(folder.TextEncoderPath, "text_encoder", edited)));
            }
            var unet = sessions.Create(folder.UNetPath, "unet");
            var fixShapes = fixedUNetShapes == FixedShapes.Always || (fixedUNetShapes == FixedShapes.Auto && unet.ExecutionProvider == SessionFactory.DirectML);
            try
            {
                model.UNet = model.Own(new UNetRunner(unet, fixShapes ? overrides => sessions.Create(folder.UNetPath, "unet", overrides) : null,
                    sample => folder.UNetInChannels ?? OnnxFileInspector.FirstConvInputChannels(folder.UNetPath, sample)));
            }
            catch
            {
                unet.Dispose(); // the runner owns it once constructed
                throw;
            }
            if (folder.TextEncoder2Path is not null)
            {
                model.Tokenizer2 = ClipTokenizer.Load(folder.Tokenizer2Folder);
                if (folder.IsRefiner) model.Tokenizer = model.Tokenizer2;
                model.TextEncoder2 = model.Own(new TextEncoderRunner(model.Own(sessions.Create(folder.TextEncoder2Path, "text_encoder_2"))));
            }
            if (model.UNet.TakesAddedConditioning != folder.IsSdxl)
                throw new ModelFolderException(folder.IsSdxl
                    ? $"Model '{folder.Name}': text_encoder_2 is present (SDXL), but the UNet has no 'text_embeds'/'time_ids' inputs."
                    : $"Model '{folder.Name}': the UNet takes SDXL's 'text_embeds'/'time_ids' inputs, but text_encoder_2 is missing.");
            model.VaeDecoder = new VaeDecoderRunner(model.Own(sessions.Create(folder.VaeDecoderPath, "vae_decoder")));
            if (folder.VaeEncoderPath is not null)
                model.VaeEncoder = new VaeEncoderRunner(model.Own(sessions.Create(folder.VaeEncoderPath, "vae_encoder")));

            ILatentPreviewer previewer = new LatentRgbPreviewer(folder.PreviewFactors ?? LatentRgbFactors.StableDiffusion1);
            if (useTaesd && folder.TaesdDecoderPath is not null)
                previewer = model.Own(new TaesdPreviewer(model.Own(sessions.Create(folder.TaesdDecoderPath, "taesd_decoder")), previewer));
            model.Previewer = previewer;
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private T Own<T>(T resource) where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    public void Dispose()
    {
        // Runners before the sessions they use: reverse creation order.
        for (var i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
    }
}
