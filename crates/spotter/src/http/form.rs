//! The body of a send or a start (Part C): JSON as before, or a `multipart/form-data` form
//! with an `image` file part; any other type answers 415 with DRF's words. The image part is
//! read as it streams in and stops being kept once it passes 5 MiB, so an oversized upload
//! never sits whole in memory; JSON keeps its 64 KiB limit (checked once read, within the
//! form's limit).

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::domain::input::{MAX_IMAGE_BYTES, Upload};
use crate::error::Error;
use crate::http::MAX_BODY_BYTES;
use crate::http::extract::json_object;

/// A send as a multipart form (the OpenAPI document's description of it).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SendForm {
    /// Optional with an image; an empty part counts as absent.
    content: Option<String>,
    /// A JPEG, PNG or WebP file, at most 5 MiB; metadata is stripped before it is stored.
    #[schema(value_type = Option<String>, format = Binary)]
    image: Option<Vec<u8>>,
    client_message_id: Option<String>,
}

/// A start as a multipart form.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct StartForm {
    /// The trainee's id, as text.
    trainee_id: String,
    content: Option<String>,
    #[schema(value_type = Option<String>, format = Binary)]
    image: Option<Vec<u8>>,
    client_message_id: Option<String>,
}

/// The most a multipart send or start may carry in all: the image and some room for the text
/// fields and the form's framing. Past it, the image is too large (400).
pub const MAX_FORM_BYTES: usize = MAX_IMAGE_BYTES + 256 * 1024;

/// How much of an oversized body is read through (nothing kept) before the 400 goes out. A
/// server that answers and closes while the client is still sending makes the kernel reset the
/// connection, and the client may lose the answer with it ("lingering close": nginx reads on for
/// the same reason). Past this, the body is cut off: a client sending 32 MiB to a 5 MiB form is
/// not one to wait for.
pub const READ_THROUGH_BYTES: usize = 32 * 1024 * 1024;

/// A send or start body: the fields (as JSON, whatever the encoding, so one validator serves
/// both) and the image, if the form had one.
pub struct MessageForm<T> {
    pub body: T,
    pub upload: Option<Upload>,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for MessageForm<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let declared = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let essence = declared
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let (fields, upload) = match essence.as_str() {
            // A body without a type is read as JSON, as Spotter always has.
            "" | "application/json" => (json(req, state).await?, None),
            "multipart/form-data" => multipart(req, state).await?,
            _ => return Err(Error::UnsupportedMediaType(declared)),
        };
        let body = T::deserialize(fields)
            .map_err(|e| Error::Malformed(format!("JSON parse error - {e}")))?;
        Ok(Self { body, upload })
    }
}

/// A JSON body: kept up to the 64 KiB every JSON body has; a longer one is read through (within
/// the route's limit, see [`READ_THROUGH_BYTES`]) and refused once read.
async fn json<S: Send + Sync>(req: Request, _state: &S) -> Result<Value, Error> {
    // The route's limit ends the stream with an error: too large, like the rest.
    let kept = keep_up_to(req.into_body().into_data_stream(), MAX_BODY_BYTES, |e| {
        if e.to_string().contains("length limit") {
            Error::PayloadTooLarge
        } else {
            Error::Malformed(format!("Could not read the request body: {e}"))
        }
    })
    .await?;
    json_object(&kept.ok_or(Error::PayloadTooLarge)?)
}

/// Reads a stream to its end, keeping up to `cap` bytes: what it held, or `None` if it went
/// over (the rest read through, nothing kept: see [`READ_THROUGH_BYTES`]).
async fn keep_up_to<E>(
    stream: impl futures_util::Stream<Item = Result<Bytes, E>>,
    cap: usize,
    error: impl Fn(E) -> Error,
) -> Result<Option<Vec<u8>>, Error> {
    use futures_util::StreamExt;
    let mut stream = std::pin::pin!(stream);
    let mut kept: Option<Vec<u8>> = Some(Vec::new());
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(&error)?;
        if let Some(k) = &mut kept {
            if k.len() + chunk.len() > cap {
                kept = None;
            } else {
                k.extend_from_slice(&chunk);
            }
        }
    }
    Ok(kept)
}

/// The form's text fields (an empty `content` counts as absent, as the original reads a form)
/// and its `image` part, read with a cap.
async fn multipart<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<(Value, Option<Upload>), Error> {
    let mut form = Multipart::from_request(req, state)
        .await
        .map_err(|e| Error::Malformed(format!("Multipart form parse error - {e}")))?;
    let mut fields = Map::new();
    let mut upload = None;
    let mut oversized_text = false;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            // Past the form's limit: what overflowed it is the image.
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(Error::ImageTooLarge);
            }
            Err(e) => {
                return Err(Error::Malformed(format!(
                    "Multipart form parse error - {e}"
                )));
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "image" => upload = Some(image(field).await?),
            "content" | "client_message_id" | "trainee_id" => match text(field).await? {
                Some(text) if !(name == "content" && text.is_empty()) => {
                    fields.insert(name, Value::String(text));
                }
                Some(_) => {}
                None => oversized_text = true,
            },
            // Other parts are read past, not kept.
            _ => drop(field),
        }
    }
    // Answered once the whole form is read (see [`READ_THROUGH_BYTES`]).
    if oversized_text {
        return Err(Error::PayloadTooLarge);
    }
    Ok((Value::Object(fields), upload))
}

/// A text part, kept up to the 64 KiB of a JSON body; a longer one is read through (`None`).
async fn text(field: axum::extract::multipart::Field<'_>) -> Result<Option<String>, Error> {
    let Some(kept) = keep_up_to(field, MAX_BODY_BYTES, read_error).await? else {
        return Ok(None);
    };
    String::from_utf8(kept)
        .map(Some)
        .map_err(|_| Error::Malformed("Multipart form parse error - a field is not UTF-8".into()))
}

/// An image part, kept up to [`MAX_IMAGE_BYTES`]; past that it is only read through.
async fn image(field: axum::extract::multipart::Field<'_>) -> Result<Upload, Error> {
    let declared = field
        .content_type()
        .unwrap_or("application/octet-stream")
        .to_owned();
    let kept = keep_up_to(field, MAX_IMAGE_BYTES, read_error).await?;
    Ok(Upload {
        declared,
        too_large: kept.is_none(),
        bytes: Bytes::from(kept.unwrap_or_default()),
    })
}

fn read_error(e: axum::extract::multipart::MultipartError) -> Error {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        Error::ImageTooLarge
    } else {
        Error::Malformed(format!("Multipart form parse error - {e}"))
    }
}
