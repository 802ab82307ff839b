using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using SdBlazor.Engine.Pipelines;

namespace SdBlazor.Web.Tests.Api;

/// <summary><c>Engine:PreloadDefaultModel</c>: the app loads (and warms up) the default model in the background at start-up.</summary>
[Collection(SdApiCollection.Name)]
public sealed class PreloadTests
{
    [Fact]
    public async Task The_default_model_is_resident_soon_after_start_up()
    {
        using var factory = new SdApiFactory();
        var engine = factory.Services.GetRequiredService<GenerationEngine>();

        var clock = Stopwatch.StartNew();
        while (engine.ResidentModelName is null && clock.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(50);

        Assert.Equal(DefaultModel.Name, engine.ResidentModelName);
    }

    [Fact]
    public async Task Nothing_is_loaded_at_start_up_when_preloading_is_off()
    {
        using var factory = new SdApiFactory();
        factory.Settings["Engine:PreloadDefaultModel"] = "false";
        var engine = factory.Services.GetRequiredService<GenerationEngine>();

        // The preload of this small model takes well under a second when it is on (the test above).
        await Task.Delay(TimeSpan.FromSeconds(3));

        Assert.Null(engine.ResidentModelName);
    }
}
