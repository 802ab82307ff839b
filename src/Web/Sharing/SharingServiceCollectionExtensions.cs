using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using SdBlazor.Web.Api;
using SdBlazor.Web.Sharing.Accounts;
using SdBlazor.Web.Sharing.Auth;
using SdBlazor.Web.Sharing.Lan;
using SdBlazor.Web.Sharing.Protection;
using SdBlazor.Web.Sharing.Shares;
using SdBlazor.Web.Storage;

namespace SdBlazor.Web.Sharing;

public static class SharingServiceCollectionExtensions
{
    /// <summary>Accounts, share links, authentication and authorization, protection, and where Kestrel listens.</summary>
    public static WebApplicationBuilder AddSharing(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SharingOptions>().BindConfiguration(SharingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SharingDatabase>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<VerifiedCredentials>();
        services.AddSingleton<LoginSessions>();
        services.AddSingleton<AccountStore>();
        services.AddHttpContextAccessor();
        services.AddSingleton<SetupGate>();
        services.AddSingleton<ShareStore>();
        services.AddSingleton<ShareAccess>();
        services.AddSingleton<SelectionDrafts>();
        services.AddSingleton<LiveFeed>();
        services.AddSingleton<LanAddresses>();
        services.AddSingleton<LinkOrigins>();
        // TryAdd: a test (or a later feature) that registers its own credentials keeps them.
        services.TryAddSingleton<ISdApiCredentials, SdApiAccountCredentials>();
        services.AddSharingAuthentication();
        // After AddInteractiveServerComponents (Program.cs), so that this provider replaces the framework's.
        services.AddScoped<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider, SessionRevalidation>();
        services.AddSharingRateLimits();
        services.AddSingleton<GenerationRateLimitHubFilter>();
        services.Configure<HubOptions>(o => o.AddFilter<GenerationRateLimitHubFilter>());
        services.AddProblemDetails();

        // Keys in the data folder: logins and PIN cookies survive restarts.
        services.AddDataProtection().SetApplicationName("SdBlazor");
        services.AddOptions<KeyManagementOptions>().Configure<DataFolder, ILoggerFactory>((o, folder, logs) =>
            o.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(Path.Combine(folder.Path, "keys")), logs));

        ConfigureListening(builder);
        return builder;
    }

    private static void ConfigureListening(WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(SharingOptions.Section).Get<SharingOptions>() ?? new SharingOptions();
        var folder = new DataFolder(Options.Create(builder.Configuration.GetSection(DataFolderOptions.Section).Get<DataFolderOptions>() ?? new()), builder.Environment);
        // Endpoints live in configuration (not UseUrls) so that LanModeSwitch can rebind them while the app runs.
        var endpoints = new ListenEndpointsSource();
        var configuredUrls = builder.Configuration[WebHostDefaults.ServerUrlsKey];
        // Kestrel binds configured endpoints instead of --urls and says so once at start ("Overriding address(es)"):
        // expected, the URLs given are the input of ListenAddresses.Decide.
        builder.Configuration.Sources.Add(endpoints);
        var listen = new ListenAddresses(configuredUrls, options, folder.Path, endpoints.Provider);
        builder.Services.AddSingleton(_ => listen); // a factory, so that the container disposes it
        builder.Services.AddSingleton<LanModeSwitch>();
        // Detailed circuit errors send exception messages to the browser: only for a developer whose app nobody else
        // can reach (Development and LAN mode off at start; LAN mode switched on later keeps them off too).
        var detailedErrorsAllowed = builder.Environment.IsDevelopment() && !listen.LanRequested;
        builder.Services.PostConfigure<CircuitOptions>(o => o.DetailedErrors &= detailedErrorsAllowed);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            // A selector, not a fixed certificate: LAN mode with HTTPS may be switched on after start.
            k.ConfigureHttpsDefaults(h => h.ServerCertificateSelector ??= (_, _) => listen.Certificate);
        });
    }

    /// <summary>
    /// No exception details for any client except this machine's browser in Development (which keeps the developer
    /// page): <c>dotnet run --lan</c> runs in Development, and LAN clients must not see stack traces.
    /// </summary>
    public static WebApplication UseErrorPageForClients(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/Error", createScopeForErrors: true);
            return app;
        }
        // Re-executing "/Error" from inside this branch did not work (measured: the exception went on to the developer
        // page), so other clients get a fixed answer written here; the developer page stays the outer handler.
        app.UseWhen(http => !LocalRequests.IsLocal(http), branch => branch.UseExceptionHandler(failed => failed.Run(async http =>
        {
            http.Response.StatusCode = StatusCodes.Status500InternalServerError;
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync("An error occurred while processing your request.");
        })));
        return app;
    }

    /// <summary>CSP, nosniff and framing headers; first, so static files get them too.</summary>
    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        app.UseMiddleware<SecurityHeadersMiddleware>();
        return app;
    }

    /// <summary>Origin check, authentication and authorization, rate limits; call after <c>UseSecurityHeaders</c> and before <c>UseAntiforgery</c>.</summary>
    public static WebApplication UseSharing(this WebApplication app)
    {
        app.UseMiddleware<OriginCheckMiddleware>();
        app.UseAuthentication();
        app.UseMiddleware<SetupGateMiddleware>();
        app.UseAuthorization();
        app.UseRateLimiter();

        // Before Kestrel starts: LAN endpoints exist only once an owner password does (set-up opens them at once).
        var listenAddresses = app.Services.GetRequiredService<ListenAddresses>();
        var accounts = app.Services.GetRequiredService<AccountStore>();
        listenAddresses.AllowLan(accounts.HasOwner());
        accounts.Changed += () => listenAddresses.AllowLan(accounts.HasOwner());

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var gate = app.Services.GetRequiredService<SetupGate>();
            gate.AnnounceIfNeeded(addresses.Select(a => a.Replace("://*", "://localhost").Replace("://+", "://localhost").Replace("://[::]", "://localhost").Replace("://0.0.0.0", "://localhost")));
            var listen = app.Services.GetRequiredService<ListenAddresses>();
            if (listen.LanRequested && gate.SetupDone)
                app.Logger.LogInformation("LAN mode: other devices can open {Urls}", string.Join(", ", app.Services.GetRequiredService<LanAddresses>().Urls()));
            if (listen.CertificateFingerprint is { } fingerprint)
                app.Logger.LogInformation("HTTPS certificate SHA-256 fingerprint: {Fingerprint}", fingerprint);
        });
        return app;
    }

    public static WebApplication MapSharing(this WebApplication app)
    {
        app.MapShareEndpoints();
        app.MapAccountEndpoints();
        return app;
    }
}
