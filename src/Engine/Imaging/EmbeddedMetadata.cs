namespace SdBlazor.Engine.Imaging;

/// <summary>Which tool's metadata an image carried.</summary>
public enum MetadataSource
{
    None,
    SdBlazor,
    Automatic1111,
    ComfyUi,
    InvokeAi,
    SwarmUi,
    Fooocus,
}

/// <param name="Texts">All text chunks found, for showing the user what a file contained.</param>
/// <param name="Id">Gallery id, only from our own chunk.</param>
public sealed record EmbeddedMetadata(
    MetadataSource Source,
    ImageParameters? Parameters,
    string? Id,
    DateTime? CreatedUtc,
    IReadOnlyDictionary<string, string> Texts)
{
    /// <summary>Interprets an image's text chunks; our own chunk wins, then A1111 text, then other tools' JSON. Never throws.</summary>
    public static EmbeddedMetadata From(IReadOnlyDictionary<string, string> texts)
    {
        if (texts.TryGetValue(SdBlazorChunk.Keyword, out var own) && SdBlazorChunk.TryDeserialize(own) is { } ours)
            return new(MetadataSource.SdBlazor, ours.Parameters, ours.Id, ours.CreatedUtc, texts);

        if (texts.TryGetValue(PngTextChunks.ParametersKeyword, out var parameters) && parameters.Length > 0)
        {
            var trimmed = parameters.TrimStart();
            if (trimmed.StartsWith('{'))
            {
                if (texts.ContainsKey("fooocus_scheme") && OtherToolsMetadata.ReadFooocus(parameters) is { } fooocus)
                    return new(MetadataSource.Fooocus, fooocus, null, null, texts);
                if (OtherToolsMetadata.ReadSwarmUi(parameters) is { } swarm)
                    return new(MetadataSource.SwarmUi, swarm, null, null, texts);
            }
            else
            {
                return new(MetadataSource.Automatic1111, Infotext.ToParameters(Infotext.Parse(parameters)), null, null, texts);
            }
        }

        if (texts.TryGetValue("invokeai_metadata", out var invoke) && OtherToolsMetadata.ReadInvokeAi(invoke) is { } invokeParameters)
            return new(MetadataSource.InvokeAi, invokeParameters, null, null, texts);

        if (texts.TryGetValue("prompt", out var comfy) && ComfyUiMetadata.Read(comfy) is { } comfyParameters)
            return new(MetadataSource.ComfyUi, comfyParameters, null, null, texts);

        return new(MetadataSource.None, null, null, null, texts);
    }

    /// <summary>The chunks we write for a generated image: A1111 text for other tools, our JSON for lossless round trips.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ChunksFor(ImageParameters parameters, string id, DateTime createdUtc) =>
    [
        new(PngTextChunks.ParametersKeyword, Infotext.Format(parameters)),
        new(SdBlazorChunk.Keyword, SdBlazorChunk.Serialize(new SdBlazorMetadata(SdBlazorChunk.CurrentVersion, id, createdUtc, parameters))),
    ];
}
