using MudBlazor.Services;
using SdBlazor.Engine.Hosting;
using SdBlazor.Web.Api;
using SdBlazor.Web.Components;
using SdBlazor.Web.Gallery;
using SdBlazor.Web.Generation;
using SdBlazor.Web.Models;
using SdBlazor.Web.Prompts;
using SdBlazor.Web.Sharing;
using SdBlazor.Web.Storage;

var builder = WebApplication.CreateBuilder(SharingCommandLine.Normalize(args));
// `dotnet run` runs in Production (launchSettings.json): serve MudBlazor's and Blazor's files from the build output
// then too. A published app has no build manifest, and this does nothing there.
builder.WebHost.UseStaticWebAssets();

builder.Services.AddRazorComponents().AddInteractiveServerComponents();
builder.Services.AddMudServices();
builder.Services.AddDataFolder();
builder.Services.AddSdEngine();
builder.Services.AddGallery();
builder.Services.AddGeneration();
builder.Services.AddSdApi();
builder.Services.AddExtraNetworks();
builder.Services.AddModelManager();
builder.AddSharing();

var app = builder.Build();

app.UseErrorPageForClients();
app.UseSecurityHeaders();
// Before authentication: the top-level wwwroot holds public styles and scripts (the share page needs them too).
app.UseTopLevelWebRoot();
app.UseSharing();
app.UseAntiforgery();
app.MapStaticAssets().AllowAnonymous();
app.MapGallery();
app.MapGeneration();
app.MapSdApi();
app.MapExtraNetworks();
app.MapModelManager();
app.MapSharing();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

app.Run();

/// <summary>Entry point type, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
