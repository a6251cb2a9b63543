//! A guest that tries to escape the sandbox; see `wit/guest.wit`.

wit_bindgen::generate!({ world: "misbehaving", path: "wit" });

use waki::bindings::wasi::http::{outgoing_handler, types};

struct Misbehaving;

impl Guest for Misbehaving {
    fn fetch(url: String) -> Result<u16, String> {
        waki::Client::new()
            .get(&url)
            .send()
            .map(|r| r.status_code())
            .map_err(|e| format!("{e:#}"))
    }

    fn grow_memory(mebibytes: u32) -> u32 {
        let mut blocks = Vec::new();
        for _ in 0..mebibytes {
            let mut block = vec![0u8; 1 << 20];
            block[4096] = 1;
            blocks.push(block);
        }
        std::hint::black_box(&blocks);
        blocks.len() as u32
    }

    fn spin() {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    fn open_requests(url: String, count: u32) -> u32 {
        let (scheme, rest) = url.split_once("://").unwrap_or(("http", &url));
        let authority = rest.split('/').next().unwrap_or("").to_string();
        let mut pending = Vec::new();
        for _ in 0..count {
            let request = types::OutgoingRequest::new(types::Fields::new());
            let _ = request.set_scheme(Some(&if scheme == "https" {
                types::Scheme::Https
            } else {
                types::Scheme::Http
            }));
            let _ = request.set_authority(Some(&authority));
            let _ = request.set_path_with_query(Some("/api/v1/timelines/public"));
            if let Ok(future) = outgoing_handler::handle(request, None) {
                pending.push(future);
            }
        }
        // Keep every response (and so every connection) alive while counting.
        let mut responses = Vec::new();
        for future in &pending {
            future.subscribe().block();
            if let Some(Ok(Ok(response))) = future.get() {
                responses.push(response);
            }
        }
        responses.len() as u32
    }
}

export!(Misbehaving);
